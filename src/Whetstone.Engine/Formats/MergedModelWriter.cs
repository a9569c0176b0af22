using System.Text.Json.Nodes;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats;

/// <summary>Folds a LoRA adapter into its base model: a standalone Hugging Face directory whose
/// adapted weights are W + scale·B·A, loadable by anything that reads the base model (and
/// served without adapter overhead). Every other tensor and file is copied unchanged. All
/// tensors are held in memory until written (about the model's size in its stored dtype):
/// simple, and fine for the models one machine trains; stream per shard if that ever binds.</summary>
public static class MergedModelWriter
{
    /// <summary>Writes the merged model to <paramref name="outputDirectory"/>, which must not
    /// exist yet or be empty: the directory is assembled under a temporary name beside it (with a
    /// checksum manifest) and renamed into place, so it is either complete or absent.</summary>
    /// <param name="network">The base model the adapter was trained on, loaded from
    /// <paramref name="baseModelDirectory"/> (for the adapter's target names and shapes).</param>
    /// <param name="storedDtype">The dtype of the written tensors; null keeps each tensor's stored dtype.</param>
    /// <param name="maxShardBytes">Shard the weights as save_pretrained does; null writes one file.</param>
    public static void Write(string baseModelDirectory, CausalLanguageModel network, LoraAdapter adapter,
        string outputDirectory, ScalarType? storedDtype = null, long? maxShardBytes = null)
    {
        CheckOutputDirectory(baseModelDirectory, outputDirectory);
        if (storedDtype is { } requested && DtypeName(requested) is null)
            throw new ArgumentException($"stored dtype {requested} is not supported (float32, bfloat16, float16, float64)", nameof(storedDtype));
        var config = ReadConfig(baseModelDirectory, network);
        // A tied model has no lm_head weight of its own: adapting the unembedding but not the
        // embedding makes the two differ, so the merged model is written untied.
        bool untie = network.Config.TieWordEmbeddings && adapter.TryGet(CausalLanguageModel.UnembeddingName, out _);
        if (untie) config["tie_word_embeddings"] = false;
        if (storedDtype is { } dtype)
        {
            config["torch_dtype"] = DtypeName(dtype);
            if (config.ContainsKey("dtype")) config["dtype"] = DtypeName(dtype);   // transformers ≥ 4.56 spelling
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var tensors = new CheckpointTensors(baseModelDirectory);
        var merged = MergedTensors(tensors, network, adapter, storedDtype);
        CheckpointDirectory.Write(outputDirectory, staging =>
        {
            foreach (var file in Directory.GetFiles(baseModelDirectory).Where(IsCopiedFile))
                File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
            AtomicFile.WriteAllText(Path.Combine(staging, "config.json"), config.ToJsonString(ModelConfig.Indented));
            CheckpointWriter.Write(staging, merged, maxShardBytes);
        });
    }

    /// <summary>A fully fine-tuned network's own weights as a standalone Hugging Face directory
    /// (config, tokenizer and other files from the base it started from), in
    /// <paramref name="storedDtype"/>. Parameter names are already Hugging Face's.</summary>
    public static void WriteFullModel(string baseModelDirectory, CausalLanguageModel network, string outputDirectory, ScalarType storedDtype)
    {
        CheckOutputDirectory(baseModelDirectory, outputDirectory);
        var config = ReadConfig(baseModelDirectory, network);
        config["torch_dtype"] = DtypeName(storedDtype) ?? throw new ArgumentException($"stored dtype {storedDtype} is not supported", nameof(storedDtype));
        if (config.ContainsKey("dtype")) config["dtype"] = DtypeName(storedDtype);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tensors = network.named_parameters()
            .Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter.detach().to(storedDtype))).ToList();
        CheckpointDirectory.Write(outputDirectory, staging =>
        {
            foreach (var file in Directory.GetFiles(baseModelDirectory).Where(IsCopiedFile))
                File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
            AtomicFile.WriteAllText(Path.Combine(staging, "config.json"), config.ToJsonString(ModelConfig.Indented));
            CheckpointWriter.Write(staging, tensors);
        });
    }

    /// <summary>Every base tensor in the base's order, adapted ones merged in place; lm_head last
    /// when untying (where save_pretrained puts it). A tied checkpoint that carries a stale copy
    /// of the embedding as lm_head.weight gets it replaced by the merged unembedding.</summary>
    static List<KeyValuePair<string, Tensor>> MergedTensors(CheckpointTensors tensors, CausalLanguageModel network,
        LoraAdapter adapter, ScalarType? storedDtype)
    {
        // Which base tensor each adapted module reads and which name its merged weight takes.
        var sources = new Dictionary<string, (string Source, LoraWeights Weights)>(StringComparer.Ordinal);
        foreach (var weights in adapter.Weights)
        {
            string name = weights.Target.Name + ".weight";
            string source = weights.Target.Name == CausalLanguageModel.UnembeddingName && network.Config.TieWordEmbeddings
                ? "model.embed_tokens.weight" : name;
            if (!tensors.Contains(source))
                throw new InvalidDataException($"base model '{tensors.Directory}' has no tensor '{source}' for the adapted module '{weights.Target.Name}'");
            sources[name] = (source, weights);
        }

        var merged = new List<KeyValuePair<string, Tensor>>();
        foreach (var name in tensors.Names.ToList())
        {
            if (sources.TryGetValue(name, out var adapted))
            {
                merged.Add(new(name, Merge(tensors, adapted.Source, adapted.Weights, adapter.Scale, storedDtype)));
                sources.Remove(name);
                continue;
            }
            var stored = tensors.StoredDtype(name);
            var dtype = storedDtype is { } d && stored is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64 ? d : stored;
            merged.Add(new(name, tensors.Read(name, tensors.Shape(name), dtype)));
        }
        // What is left has no tensor of its own in the base: the untied lm_head.
        foreach (var (name, (source, weights)) in sources)
            merged.Add(new(name, Merge(tensors, source, weights, adapter.Scale, storedDtype)));
        return merged;
    }

    /// <summary>W + scale·B·A, computed in fp32 (fp64 for fp64 weights) and rounded once to the
    /// stored dtype: summing in bf16 would round the small update away.</summary>
    static Tensor Merge(CheckpointTensors tensors, string source, LoraWeights weights, double scale, ScalarType? storedDtype)
    {
        var stored = tensors.StoredDtype(source);
        var compute = stored == ScalarType.Float64 || weights.A.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        long[] shape = [weights.Target.OutFeatures, weights.Target.InFeatures];
        var baseShape = tensors.Shape(source);
        if (!baseShape.SequenceEqual(shape))
            throw new InvalidDataException($"base model '{tensors.Directory}': tensor '{source}' has shape [{string.Join(", ", baseShape)}], the adapter's '{weights.Target.Name}' expects [{string.Join(", ", shape)}]");
        var w = tensors.Read(source, shape, compute);                                   // [out, in]
        var delta = weights.B.detach().to(compute).matmul(weights.A.detach().to(compute)).to(w.device);   // [out, r]·[r, in], on the adapter's device, then to the host with the file's weights
        return (w + delta * scale).to(storedDtype ?? stored);
    }

    static JsonObject ReadConfig(string baseModelDirectory, CausalLanguageModel network)
    {
        var path = Path.Combine(baseModelDirectory, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"no config.json in '{baseModelDirectory}'", path);
        var json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
            ?? throw new InvalidDataException($"{path}: not a JSON object");
        var fileConfig = ModelConfig.Parse(json);
        if (fileConfig.Family != network.Config.Family || fileConfig.TieWordEmbeddings != network.Config.TieWordEmbeddings
            || fileConfig.NumHiddenLayers != network.Config.NumHiddenLayers || fileConfig.HiddenSize != network.Config.HiddenSize)
            throw new ArgumentException($"the network is not the model in '{baseModelDirectory}' " +
                $"({network.Config.Family.Architecture()}, {network.Config.NumHiddenLayers} layers, hidden {network.Config.HiddenSize}, tied {network.Config.TieWordEmbeddings} " +
                $"vs {fileConfig.Family.Architecture()}, {fileConfig.NumHiddenLayers} layers, hidden {fileConfig.HiddenSize}, tied {fileConfig.TieWordEmbeddings})");
        return json;
    }

    static void CheckOutputDirectory(string baseModelDirectory, string outputDirectory)
    {
        if (!Directory.Exists(baseModelDirectory)) throw new DirectoryNotFoundException($"base model directory '{baseModelDirectory}' does not exist");
        var output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDirectory));
        var source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseModelDirectory));
        if (output == source || source.StartsWith(output + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"output directory '{outputDirectory}' is or contains the base model directory", nameof(outputDirectory));
        // Writing replaces the directory wholesale; refuse rather than delete someone's files.
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new IOException($"output directory '{outputDirectory}' exists and is not empty");
    }

    /// <summary>Top-level non-weight files (tokenizer, generation config, chat template, README,
    /// licence). Subfolders are left out: the Hugging Face loaders read none, and some (Llama's
    /// original/) hold unmerged weights in another format.</summary>
    static bool IsCopiedFile(string path)
    {
        string name = Path.GetFileName(path);
        if (name.StartsWith('.') || name is "config.json" or CheckpointDirectory.ManifestName) return false;
        if (name.EndsWith(".index.json", StringComparison.Ordinal)) return false;
        return Path.GetExtension(name) is not (".safetensors" or ".bin" or ".pt" or ".pth" or ".ckpt" or ".gguf" or ".h5" or ".msgpack");
    }

    static string? DtypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => null,
    };
}
