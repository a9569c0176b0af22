using Whetstone.Engine.Formats;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision;

public class QwenVlLoaderTests
{
    [Fact]
    public void ConfigRoundTripsQwenVlKeys()
    {
        var directory = VisionTestModels.Write();
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))!.AsObject();
        Assert.Equal("Qwen2_5_VLForConditionalGeneration", json["architectures"]![0]!.GetValue<string>());
        Assert.Equal("mrope", json["rope_scaling"]!["type"]!.GetValue<string>());
        var config = ModelConfig.Load(directory);
        Assert.Equal(ModelFamily.Qwen2, config.Family);
        Assert.Equal([1, 1, 2], config.MropeSection);   // head_dim 8 → 4 pairs
        var vision = config.Vision!;
        Assert.Equal((2, 32, 2, 14, 2, 2, 56), (vision.Depth, vision.HiddenSize, vision.NumHeads, vision.PatchSize, vision.SpatialMergeSize, vision.TemporalPatchSize, vision.WindowSize));
        Assert.Equal(config.HiddenSize, vision.OutHiddenSize);
        Assert.Equal(vision.VisionStartTokenId + 1, vision.VisionEndTokenId);
        Assert.Equal(vision.VisionStartTokenId + 2, vision.ImageTokenId);
    }

    [Fact]
    public void EveryCheckpointTensorMapsToOneParameter()
    {
        var directory = VisionTestModels.Write();
        using var tensors = new CheckpointTensors(directory);
        var names = tensors.Names.ToHashSet();
        using var network = TestModels.LoadNetwork(directory);
        var parameters = network.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), parameters.OrderBy(n => n, StringComparer.Ordinal));
        Assert.Contains("visual.patch_embed.proj.weight", names);
        Assert.Contains("visual.blocks.1.attn.qkv.weight", names);
        Assert.Contains("visual.merger.mlp.2.bias", names);
        Assert.Equal(1 + 2 * 12 + 5, names.Count(n => n.StartsWith("visual.", StringComparison.Ordinal)));
        Assert.Equal([32L, 3, 2, 14, 14], network.named_parameters().First(p => p.name == "visual.patch_embed.proj.weight").parameter.shape);
    }

    [Theory]
    [InlineData("visual.blocks.1.attn.qkv.bias")]
    [InlineData("visual.merger.mlp.0.weight")]
    [InlineData("visual.patch_embed.proj.weight")]
    public void AMissingVisionTensorIsRefusedByName(string missing)
    {
        var directory = VisionTestModels.Write();
        var config = ModelConfig.Load(directory);
        File.Delete(Path.Combine(directory, "model.safetensors"));
        using (var scope = NewDisposeScope())
            CheckpointWriter.Write(directory, RandomWeights.Create(config, 1, ScalarType.Float32).Where(p => p.Key != missing).ToList(), null);
        var error = Assert.ThrowsAny<Exception>(() => TestModels.LoadNetwork(directory));
        Assert.Contains(missing, error.Message);
    }
}
