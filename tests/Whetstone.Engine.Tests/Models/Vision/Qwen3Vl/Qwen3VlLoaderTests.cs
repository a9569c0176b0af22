using System.Text.Json.Nodes;
using Whetstone.Engine.Formats;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision.Qwen3Vl;

/// <summary>Qwen3-VL's config.json keys and tensor names, as Hugging Face's Qwen3VLForConditionalGeneration spells them.</summary>
public class Qwen3VlLoaderTests
{
    [Fact]
    public void ConfigNestsTheLmInTextConfigAndRoundTrips()
    {
        var directory = Qwen3VlTestModels.Write();
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))!.AsObject();
        Assert.Equal("Qwen3VLForConditionalGeneration", json["architectures"]![0]!.GetValue<string>());
        Assert.Equal("qwen3_vl", json["model_type"]!.GetValue<string>());
        var text = json["text_config"]!.AsObject();
        Assert.Equal(16, text["head_dim"]!.GetValue<int>());
        Assert.True(text["rope_scaling"]!["mrope_interleaved"]!.GetValue<bool>());
        Assert.Equal([4, 2, 2], text["rope_scaling"]!["mrope_section"]!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Null(text["vision_config"]);
        var visionJson = json["vision_config"]!.AsObject();
        Assert.Equal([0, 1], visionJson["deepstack_visual_indexes"]!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Equal(16, visionJson["num_position_embeddings"]!.GetValue<int>());
        Assert.NotNull(json["image_token_id"]);

        var config = ModelConfig.Load(directory);
        Assert.Equal(ModelFamily.Qwen3, config.Family);
        Assert.True(config.QkNorm);
        Assert.True(config.MropeInterleaved);
        Assert.Equal([4, 2, 2], config.MropeSection);
        var v = config.Vision!;
        Assert.Equal(VisionArchitecture.Qwen3Vl, v.Architecture);
        Assert.Equal((3, 32, 16, 2, 2, 32), (v.Depth, v.HiddenSize, v.PatchSize, v.SpatialMergeSize, v.TemporalPatchSize, v.PixelsPerToken));
        // The written form parses back to the same shape, and is what init-model wrote.
        Assert.Equal(json.ToJsonString(), ModelConfig.Parse(config.ToJson()).ToJson().ToJsonString());
    }

    [Fact]
    public void AnUnsupportedVisionActivationIsRefusedByField()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Qwen3VlTestModels.Write(), "config.json")))!.AsObject();
        json["vision_config"]!["hidden_act"] = "quick_gelu";
        var error = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json));
        Assert.Contains("vision_config.hidden_act", error.Message);
    }

    [Fact]
    public void AMissingTextConfigIsRefusedByField()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Qwen3VlTestModels.Write(), "config.json")))!.AsObject();
        json.Remove("text_config");
        var error = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json));
        Assert.Contains("text_config", error.Message);
    }

    [Fact]
    public void EveryCheckpointTensorMapsToOneParameter()
    {
        var directory = Qwen3VlTestModels.Write();
        using var tensors = new CheckpointTensors(directory);
        var names = tensors.Names.ToHashSet();
        using var network = TestModels.LoadNetwork(directory);
        var parameters = network.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), parameters.OrderBy(n => n, StringComparer.Ordinal));
        foreach (var name in new[]
        {
            "lm_head.weight", "model.language_model.embed_tokens.weight", "model.language_model.layers.2.self_attn.q_norm.weight",
            "model.visual.patch_embed.proj.bias", "model.visual.pos_embed.weight", "model.visual.blocks.2.norm1.bias",
            "model.visual.blocks.0.mlp.linear_fc1.weight", "model.visual.merger.norm.weight", "model.visual.deepstack_merger_list.1.linear_fc2.bias",
        }) Assert.Contains(name, names);
        Assert.DoesNotContain(names, n => n.StartsWith("model.layers.", StringComparison.Ordinal) || n.StartsWith("visual.", StringComparison.Ordinal));
        // The main merger norms each patch (32), a deepstack merger the 2×2 group (128).
        Assert.Equal([32L], network.named_parameters().First(p => p.name == "model.visual.merger.norm.weight").parameter.shape);
        Assert.Equal([128L], network.named_parameters().First(p => p.name == "model.visual.deepstack_merger_list.0.norm.weight").parameter.shape);
    }

    [Theory]
    [InlineData("model.visual.pos_embed.weight")]
    [InlineData("model.visual.deepstack_merger_list.1.linear_fc2.bias")]
    [InlineData("model.visual.blocks.2.norm2.bias")]
    [InlineData("model.language_model.layers.1.self_attn.k_norm.weight")]
    [InlineData("lm_head.weight")]
    public void AMissingTensorIsRefusedByName(string missing)
    {
        var directory = Qwen3VlTestModels.Write();
        var config = ModelConfig.Load(directory);
        File.Delete(Path.Combine(directory, "model.safetensors"));
        using (var scope = NewDisposeScope())
            CheckpointWriter.Write(directory, RandomWeights.Create(config, 1, ScalarType.Float32).Where(p => p.Key != missing).ToList(), null);
        var error = Assert.ThrowsAny<Exception>(() => TestModels.LoadNetwork(directory));
        Assert.Contains(missing, error.Message);
    }
}
