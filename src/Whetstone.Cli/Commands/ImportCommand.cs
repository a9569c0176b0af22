using System.CommandLine;
using Whetstone.Engine.Models;
using Whetstone.Engine.Formats.Gguf;

namespace Whetstone.Cli.Commands;

/// <summary><c>whet import gguf</c>: a GGUF file (float or Q8_0/Q4_0/Q4_K/Q6_K, dequantised) as a Hugging Face model directory.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--file", "-f") { Description = "GGUF file with F32/F16/BF16 tensors (llama, qwen2 or qwen3)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "New Hugging Face model directory (must not exist or be empty)", Required = true };
        var gguf = new Command("gguf", "Read a GGUF file into a Hugging Face model directory.") { file, output };
        gguf.SetAction(result => CommandErrors.Run(() =>
        {
            var config = GgufImporter.Import(result.GetValue(file)!, result.GetValue(output)!);
            Console.WriteLine($"imported {config.Family.Architecture()} ({config.NumHiddenLayers} layers, hidden {config.HiddenSize}, vocab {config.VocabSize}) into {Path.GetFullPath(result.GetValue(output)!)}");
            return 0;
        }));
        return new Command("import", "Convert a model from another format.") { gguf };
    }
}
