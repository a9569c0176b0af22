using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Formats;

public class CheckpointLoadingTests
{
    [Fact]
    public void ShardedAndSingleFileCheckpointsGiveIdenticalOutputs()
    {
        var config = TestModels.Config(ModelFamily.Qwen3);
        var single = TestModels.WriteCheckpoint(config, seed: 9);
        var sharded = TestModels.WriteCheckpoint(config, seed: 9, maxShardBytes: 20_000);
        Assert.False(File.Exists(Path.Combine(sharded, "model.safetensors")));
        Assert.True(Directory.GetFiles(sharded, "model-*-of-*.safetensors").Length >= 3);

        using var a = TestModels.LoadNetwork(single);
        using var b = TestModels.LoadNetwork(sharded);
        using var scope = NewDisposeScope();
        var tokens = TestModels.RandomTokens(2, 9, config.VocabSize, seed: 1);
        Assert.Equal(0f, (a.Logits(a.Forward(tokens)) - b.Logits(b.Forward(tokens))).abs().max().item<float>());
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void HalfPrecisionCheckpointsLoadIntoFp32AndBf16(ScalarType stored)
    {
        var config = TestModels.Config(ModelFamily.Llama);
        var reference = TestModels.WriteCheckpoint(config, seed: 4);
        var half = TestModels.WriteCheckpoint(config, seed: 4, dtype: stored);
        using var exact = TestModels.LoadNetwork(reference);
        using var fromHalf = TestModels.LoadNetwork(half);
        using var bf16 = TestModels.LoadNetwork(half, ScalarType.BFloat16);
        using var scope = NewDisposeScope();
        var tokens = TestModels.RandomTokens(1, 8, config.VocabSize, seed: 2);
        var expected = exact.Logits(exact.Forward(tokens));
        // Rounding the weights to 16 bits moves logits a little, never a lot.
        Assert.True((expected - fromHalf.Logits(fromHalf.Forward(tokens))).abs().max().item<float>() < 0.02);
        Assert.True((expected - bf16.Logits(bf16.Forward(tokens))).abs().max().item<float>() < 0.05);
        Assert.Equal(ScalarType.BFloat16, bf16.Dtype);
    }

    [Fact]
    public void MissingTensorIsNamedInTheError()
    {
        var config = TestModels.Config(ModelFamily.Qwen2);
        var directory = TestModels.WriteCheckpoint(config);
        RewriteWithout(directory, "model.layers.1.self_attn.k_proj.bias");
        var error = Assert.Throws<InvalidDataException>(() => TestModels.LoadNetwork(directory));
        Assert.Contains("model.layers.1.self_attn.k_proj.bias", error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public void WronglyShapedTensorIsNamedWithBothShapes()
    {
        var config = TestModels.Config(ModelFamily.Llama);
        var directory = TestModels.WriteCheckpoint(config);
        var wider = config with { IntermediateSize = config.IntermediateSize + 2 };
        File.WriteAllText(Path.Combine(directory, "config.json"), wider.ToJson().ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => TestModels.LoadNetwork(directory));
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", error.Message);
        Assert.Contains($"[{config.IntermediateSize}, {config.HiddenSize}]", error.Message);
    }

    [Fact]
    public void TruncatedFileIsRefusedWithAClearError()
    {
        var directory = TestModels.WriteCheckpoint(TestModels.Config(ModelFamily.Llama));
        var path = Path.Combine(directory, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var error = Assert.Throws<InvalidDataException>(() => TestModels.LoadNetwork(directory));
        Assert.Contains("data_offsets", error.Message);
    }

    [Fact]
    public void GarbageHeaderIsRefusedWithAClearError()
    {
        var directory = TestModels.WriteCheckpoint(TestModels.Config(ModelFamily.Llama));
        var path = Path.Combine(directory, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        Encoding.ASCII.GetBytes("{{{{").CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => TestModels.LoadNetwork(directory));
        Assert.Contains("header", error.Message);
    }

    [Fact]
    public void UnexpectedExtraTensorIsRefused()
    {
        var config = TestModels.Config(ModelFamily.Llama);
        var directory = TestModels.WriteCheckpoint(config);
        var qwen2 = TestModels.WriteCheckpoint(config with { Family = ModelFamily.Qwen2, AttentionBias = true });
        // A Qwen2 checkpoint (with biases) declared as Llama without attention_bias.
        File.Copy(Path.Combine(directory, "config.json"), Path.Combine(qwen2, "config.json"), overwrite: true);
        var error = Assert.Throws<InvalidDataException>(() => TestModels.LoadNetwork(qwen2));
        Assert.Contains("self_attn.q_proj.bias", error.Message);
    }

    static void RewriteWithout(string directory, string name)
    {
        var path = Path.Combine(directory, "model.safetensors");
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using (var file = new Whetstone.Engine.Formats.SafetensorsFile(path))
            foreach (var n in file.TensorNames.Where(n => n != name)) tensors.Add(new(n, file.Read(n)));
        Whetstone.Engine.Formats.SafetensorsWriter.Write(path, tensors);
    }
}

public class ModelConfigTests
{
    static JsonObject Base() => TestModels.Config(ModelFamily.Llama).ToJson();

    [Fact]
    public void UnsupportedArchitectureNamesTheField()
    {
        var json = Base();
        json["architectures"] = new JsonArray("MistralForCausalLM");
        var error = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json));
        Assert.Equal("architectures", error.Field);
        Assert.Contains("MistralForCausalLM", error.Message);
    }

    [Fact]
    public void UnsupportedRopeTypeNamesTheField()
    {
        var json = Base();
        json["rope_scaling"] = new JsonObject { ["rope_type"] = "longrope", ["factor"] = 4.0 };   // yarn is supported (MoE work)
        var error = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json));
        Assert.Equal("rope_scaling.rope_type", error.Field);
    }

    [Fact]
    public void RopeParametersObjectIsReadLikeTheClassicKeys()
    {
        var classic = Base();
        classic["rope_theta"] = 500000.0;
        classic["rope_scaling"] = new JsonObject
        {
            ["rope_type"] = "llama3", ["factor"] = 32.0, ["low_freq_factor"] = 1.0,
            ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 8192,
        };
        var modern = Base();
        modern.Remove("rope_theta");
        modern["rope_parameters"] = new JsonObject
        {
            ["rope_type"] = "llama3", ["rope_theta"] = 500000.0, ["factor"] = 32.0, ["low_freq_factor"] = 1.0,
            ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 8192,
        };
        var a = ModelConfig.Parse(classic);
        var b = ModelConfig.Parse(modern);
        Assert.Equal(500000.0, b.RopeTheta);
        Assert.Equal(a.RopeScaling, b.RopeScaling);
        Assert.Equal(32.0, b.RopeScaling.Factor);
    }

    [Fact]
    public void HeadDimIsReadNotDerived()
    {
        var json = TestModels.Config(ModelFamily.Qwen3).ToJson();
        json["head_dim"] = 128;
        Assert.Equal(128, ModelConfig.Parse(json).HeadDim);
    }

    [Fact]
    public void IndivisibleKeyValueHeadsAreRefused()
    {
        var json = Base();
        json["num_key_value_heads"] = 3;
        Assert.Equal("num_key_value_heads", Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json)).Field);
    }
}
