using Whetstone.Engine.Formats;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>A Hugging Face model directory loaded for use: config, network and tokenizer.</summary>
public sealed class PretrainedModel : IDisposable
{
    public string Directory { get; }
    public ModelConfig Config { get; }
    public CausalLanguageModel Network { get; }
    public HuggingFaceTokenizer Tokenizer { get; }

    PretrainedModel(string directory, ModelConfig config, CausalLanguageModel network, HuggingFaceTokenizer tokenizer)
    {
        Directory = directory;
        Config = config;
        Network = network;
        Tokenizer = tokenizer;
    }

    /// <summary>Loads config.json, the safetensors weights (single or sharded) converted to
    /// <paramref name="dtype"/> on <paramref name="device"/> (default the CPU), and tokenizer.json.</summary>
    public static PretrainedModel Load(string directory, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"model directory '{directory}' does not exist");
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float64 or ScalarType.Float16))
            throw new ArgumentException($"compute dtype {dtype} is not supported (float32, bfloat16, float16, float64)");
        var config = ModelConfig.Load(directory);
        var network = LoadNetwork(directory, config, dtype, device);
        var tokenizer = HuggingFaceTokenizer.Load(directory);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new InvalidDataException($"tokenizer has {tokenizer.VocabSize} tokens but config.json vocab_size is {config.VocabSize}");
        return new PretrainedModel(directory, config, network, tokenizer);
    }

    internal static CausalLanguageModel LoadNetwork(string directory, ModelConfig config, ScalarType dtype, Device? device = null)
    {
        using var tensors = new CheckpointTensors(directory);
        var network = new CausalLanguageModel(new WeightLoader(tensors, dtype, device ?? CPU), config);
        var unexpected = tensors.Unconsumed
            .Where(n => !n.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal))
            .Where(n => !(config.TieWordEmbeddings && n == "lm_head.weight"))
            .ToList();
        if (unexpected.Count > 0)
        {
            network.Dispose();
            throw new InvalidDataException($"checkpoint '{directory}' has tensors the {config.Family.Architecture()} network does not use: {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", …" : "")}");
        }
        network.eval();
        return network;
    }

    public void Dispose() => Network.Dispose();
}
