using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>Converts a Hugging Face llama / qwen2 / qwen3 directory (optionally with a LoRA
/// adapter merged in) to a GGUF file llama.cpp loads, following convert_hf_to_gguf: the same
/// metadata keys, tensor names, Llama q/k row permutation and llama3 rope_freqs tensor.
/// Every tensor is held in memory (read as fp32, then converted) until the file is written:
/// simple, and fine for the models one machine trains; stream per tensor if that ever binds.</summary>
public static class GgufExporter
{
    /// <param name="dtype">Type of the 2-D weights (float32, float16, bfloat16). Norms, biases and
    /// rope_freqs are always F32, as the converter writes every 1-D tensor.</param>
    /// <param name="adapterDirectory">A PEFT LoRA adapter trained on the model; merged first.</param>
    public static void Export(string modelDirectory, string outFile, ScalarType dtype, string? adapterDirectory = null)
    {
        var matrixType = GgufTensorTypes.FromScalarType(dtype);
        if (adapterDirectory is null) { ExportDirectory(modelDirectory, outFile, matrixType); return; }

        var merged = Path.Combine(Path.GetTempPath(), "whetstone-gguf-merge", Guid.NewGuid().ToString("N"));
        try
        {
            using (var model = PretrainedModel.Load(modelDirectory, ScalarType.Float32))
            using (var adapter = PeftAdapter.Load(adapterDirectory, model.Network))
                // Merged in fp32 so the GGUF's own rounding is the only one.
                MergedModelWriter.Write(modelDirectory, model.Network, adapter, merged, ScalarType.Float32);
            ExportDirectory(merged, outFile, matrixType);
        }
        finally
        {
            if (Directory.Exists(merged)) Directory.Delete(merged, recursive: true);
        }
    }

    static void ExportDirectory(string modelDirectory, string outFile, GgufTensorType matrixType)
    {
        var config = ModelConfig.Load(modelDirectory);
        var metadata = GgufModelMetadata.For(config, matrixType, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDirectory))));
        GgufVocabularyExport.Add(metadata, modelDirectory, config);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var checkpoint = new CheckpointTensors(modelDirectory);
        var tensors = new List<GgufTensor>();
        if (config.RopeScaling.Type == "llama3")
            tensors.Add(new GgufTensor("rope_freqs.weight", Llama3RopeFactors.Compute(config), GgufTensorType.F32));
        foreach (var name in checkpoint.Names)
        {
            // A tied checkpoint may still carry a copy of the embedding as lm_head; llama.cpp reuses token_embd.
            if (config.TieWordEmbeddings && name == "lm_head.weight") continue;
            if (GgufTensorNames.ToGguf(name) is not { } ggufName) continue;
            var data = checkpoint.Read(name, checkpoint.Shape(name), ScalarType.Float32);
            if (config.Family == ModelFamily.Llama)
            {
                if (name.Contains(".self_attn.q_proj.", StringComparison.Ordinal)) data = LlamaHeadPermutation.ToGguf(data, config.NumAttentionHeads);
                else if (name.Contains(".self_attn.k_proj.", StringComparison.Ordinal)) data = LlamaHeadPermutation.ToGguf(data, config.NumKeyValueHeads);
            }
            tensors.Add(new GgufTensor(ggufName, data, data.dim() <= 1 ? GgufTensorType.F32 : matrixType));
        }
        // llama.cpp looks tensors up by name, but the converter's order (embedding, layers, output) eases diffing.
        tensors.Sort((a, b) => TensorOrder(a.Name).CompareTo(TensorOrder(b.Name)));
        GgufWriter.Write(outFile, metadata, tensors);
    }

    static (int Group, int Layer, string Name) TensorOrder(string name)
    {
        if (name == "token_embd.weight") return (0, 0, name);
        if (name == "rope_freqs.weight") return (1, 0, name);
        if (name.StartsWith("blk.", StringComparison.Ordinal)) return (2, int.Parse(name.Split('.')[1]), name);
        return (3, 0, name);
    }
}
