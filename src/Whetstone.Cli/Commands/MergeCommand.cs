using System.CommandLine;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Runtime;
using static TorchSharp.torch;

namespace Whetstone.Cli.Commands;

internal static class MergeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Base Hugging Face model directory", Required = true };
        var adapter = new Option<string>("--adapter", "-a") { Description = "PEFT LoRA adapter directory", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "New directory for the merged model (must not exist)", Required = true };
        var dtype = new Option<string?>("--dtype") { Description = "Stored dtype of the merged weights: fp32, bf16 or fp16 (default: the base's)" };
        var shard = new Option<long?>("--shard-mb") { Description = "Split weights into shards of at most this many MB" };
        var command = new Command("merge", "Merge a LoRA adapter into its base: a standalone Hugging Face model directory.")
        {
            model, adapter, output, dtype, shard,
        };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            string baseDirectory = result.GetValue(model)!;
            ScalarType? stored = result.GetValue(dtype) is string name ? ComputeDtype.Parse(name) : null;
            // The merge adds in fp32 from the stored weights; the network only supplies shapes and names.
            using var loaded = Whetstone.Engine.Models.PretrainedModel.Load(baseDirectory, ScalarType.Float32);
            using var lora = PeftAdapter.Load(result.GetValue(adapter)!, loaded.Network);
            MergedModelWriter.Write(baseDirectory, loaded.Network, lora, result.GetValue(output)!, stored,
                result.GetValue(shard) is long mb ? mb * 1024 * 1024 : null);
            Console.WriteLine($"merged {lora.Weights.Count} adapted projections into {Path.GetFullPath(result.GetValue(output)!)}");
            return 0;
        }));
        return command;
    }
}
