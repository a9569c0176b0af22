using System.CommandLine;
using Whetstone.Engine.Models;
using Whetstone.Engine.Planning;

namespace Whetstone.Cli.Commands;

/// <summary>`whet plan`: parameter counts, the chosen TP/PP/EP/DP layout with memory per GPU and
/// step time for LoRA RL (or full fine-tuning), and the fewest GPUs full fine-tuning needs.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "A config.json, or a model directory holding one", Required = true };
        var gpus = new Option<int>("--gpus") { Description = "GPUs available", Required = true };
        var memory = new Option<double>("--gpu-memory") { Description = "GiB per GPU", DefaultValueFactory = _ => 80 };
        var rank = new Option<int>("--lora-rank") { Description = "LoRA rank (0 = full fine-tuning)", DefaultValueFactory = _ => 128 };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence", DefaultValueFactory = _ => 32768 };
        var batch = new Option<int>("--batch") { Description = "Sequences per RL step", DefaultValueFactory = _ => 64 };
        var fp8 = new Option<bool>("--fp8") { Description = "Frozen base weights in block-scaled fp8 (as released)" };
        var attentionOnly = new Option<bool>("--attention-only") { Description = "LoRA on attention only (default: attention, MLPs and experts)" };
        var command = new Command("plan", "Plan tensor/pipeline/expert/data parallelism for LoRA RL of a (MoE) model: memory per GPU and step time.");
        foreach (var option in new Option[] { config, gpus, memory, rank, seqLen, batch, fp8, attentionOnly }) command.Options.Add(option);
        command.SetAction(result => CommandErrors.Run(() =>
        {
            string path = result.GetValue(config)!;
            var model = ModelConfig.Load(Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!);
            if (result.GetValue(gpus) <= 0) throw new ArgumentException($"--gpus = {result.GetValue(gpus)} must be positive");
            var request = new PlanRequest
            {
                Config = model, Gpus = result.GetValue(gpus), GpuMemoryGb = result.GetValue(memory), LoraRank = result.GetValue(rank),
                SeqLen = result.GetValue(seqLen), Batch = result.GetValue(batch), Fp8Weights = result.GetValue(fp8),
                LoraOnExperts = !result.GetValue(attentionOnly),
            };
            foreach (var line in PlanReport.Lines(request)) Console.WriteLine(line);
            return 0;
        }));
        return command;
    }
}
