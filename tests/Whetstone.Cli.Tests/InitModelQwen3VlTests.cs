using System.Text.Json.Nodes;

namespace Whetstone.Cli.Tests;

/// <summary>`whet init-model --family qwen3_vl` writes a Qwen3-VL checkpoint (nested text_config,
/// model.language_model.* / model.visual.* tensors) that `whet sample` loads and samples from.</summary>
public class InitModelQwen3VlTests
{
    [Fact]
    public void Qwen3VlFamilyWritesACheckpointThatLoadsAndSamples()
    {
        using var temp = new TempDirectory();
        var printed = Whet.Succeed("init-model", "-o", temp["vl"], "--family", "qwen3_vl");
        Assert.Contains("wrote Qwen3VLForConditionalGeneration", printed);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["vl"], "config.json")))!.AsObject();
        Assert.Equal("qwen3_vl", (string?)config["model_type"]);
        Assert.True((bool)config["text_config"]!["rope_scaling"]!["mrope_interleaved"]!);
        Assert.Equal(16, (int)config["vision_config"]!["patch_size"]!);
        var output = Whet.Succeed("sample", "-m", temp["vl"], "-p", "hello", "--max-tokens", "4", "-n", "2", "--seed", "1", "--json");
        Assert.Equal(2, JsonNode.Parse(output)!["samples"]!.AsArray().Count);
    }
}
