using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>Converts a llama / qwen2 / qwen3 GGUF (F32/F16/BF16, or Q8_0/Q4_0/Q4_K/Q6_K tensors,
/// dequantised to float32; optional metadata keys take llama.cpp's defaults) into a Hugging Face
/// directory: config.json from the metadata, model.safetensors under Hugging Face names (Llama's
/// q/k rows put back in rotate-half order), tokenizer files from the tokenizer.ggml.* keys.</summary>
public static class GgufImporter
{
    const string RopeFreqsName = "rope_freqs.weight";

    /// <summary>Writes the directory atomically; it must not exist yet or be empty.</summary>
    public static ModelConfig Import(string ggufFile, string outputDirectory)
    {
        // Writing replaces the directory wholesale; refuse rather than delete someone's files.
        if (Directory.Exists(outputDirectory) && Directory.EnumerateFileSystemEntries(outputDirectory).Any())
            throw new IOException($"output directory '{outputDirectory}' exists and is not empty");
        var file = new GgufFile(ggufFile);
        var config = GgufModelMetadata.ToConfig(file.Metadata, file);
        if (file.Contains(RopeFreqsName))
        {
            using var factors = file.Read(RopeFreqsName).to(ScalarType.Float32);
            config = config with { RopeScaling = Llama3RopeScalingFit.Recover(factors.data<float>().ToArray(), config.RopeTheta, config.HeadDim, ggufFile) };
        }
        var json = config.ToJson();
        ModelConfig.Parse(json);   // refuse a shape the loader would refuse before writing anything

        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var name in file.TensorNames.Where(n => n != RopeFreqsName))
        {
            var huggingFace = GgufTensorNames.ToHuggingFace(name)
                ?? throw new NotSupportedException($"{ggufFile}: tensor '{name}' has no Hugging Face counterpart for {config.Family.ModelType()}");
            var data = file.Read(name);
            if (config.Family == ModelFamily.Llama)
            {
                if (name.Contains(".attn_q.", StringComparison.Ordinal)) data = LlamaHeadPermutation.ToHuggingFace(data, config.NumAttentionHeads);
                else if (name.Contains(".attn_k.", StringComparison.Ordinal)) data = LlamaHeadPermutation.ToHuggingFace(data, config.NumKeyValueHeads);
            }
            tensors.Add(new(huggingFace, data));
        }
        CheckpointDirectory.Write(outputDirectory, staging =>
        {
            AtomicFile.WriteAllText(Path.Combine(staging, "config.json"), json.ToJsonString(ModelConfig.Indented));
            GgufTokenizerFiles.Write(file.Metadata, staging);
            CheckpointWriter.Write(staging, tensors, null);
        });
        return config;
    }
}
