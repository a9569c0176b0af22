using System.Text.Json.Nodes;

namespace Whetstone.Cli.Tests;

/// <summary>`whet init-model --preset kimi-tiny` writes a DeepSeek-V3-architecture checkpoint that
/// samples; `whet plan` prints a layout for it and the full fine-tuning comparison.</summary>
public class PlanAndMoeModelCommandTests
{
    [Fact]
    public void KimiTinyPresetWritesAnFp8MoeCheckpointThatSamples()
    {
        using var temp = new TempDirectory();
        Whet.Succeed("init-model", "-o", temp["kimi"], "--preset", "kimi-tiny", "--fp8");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["kimi"], "config.json")))!.AsObject();
        Assert.Equal("DeepseekV3ForCausalLM", (string?)config["architectures"]![0]);
        Assert.Equal("kimi_k2", (string?)config["model_type"]);
        Assert.Equal(16, (int)config["n_routed_experts"]!);
        Assert.Equal("yarn", (string?)config["rope_scaling"]!["rope_type"]);
        Assert.Equal(128, (int)config["quantization_config"]!["weight_block_size"]![0]!);
        var output = Whet.Succeed("sample", "-m", temp["kimi"], "-p", "hello", "--max-tokens", "4", "-n", "2", "--seed", "1", "--json");
        Assert.Equal(2, JsonNode.Parse(output)!["samples"]!.AsArray().Count);
    }

    [Fact]
    public void PlanPrintsALayoutAndTheFullFineTuningComparison()
    {
        using var temp = new TempDirectory();
        Whet.Succeed("init-model", "-o", temp["kimi"], "--preset", "kimi-tiny");
        var text = Whet.Succeed("plan", "--config", Path.Combine(temp["kimi"], "config.json"), "--gpus", "8", "--gpu-memory", "80",
            "--lora-rank", "8", "--seq-len", "256", "--batch", "8");
        Assert.Contains("LoRA RL: fits — TP ", text);
        Assert.Contains("full fine-tuning needs at least 8 GPUs", text);
        Assert.Contains("assumptions:", text);
    }
}
