using System.CommandLine;
using Whetstone.Engine.Formats.Gguf;
using static TorchSharp.torch;

namespace Whetstone.Cli.Commands;

/// <summary><c>whet export gguf</c>: a model (or model + adapter, merged) as a GGUF file for llama.cpp.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Hugging Face model directory (llama, qwen2 or qwen3)", Required = true };
        var adapter = new Option<string?>("--adapter", "-a") { Description = "PEFT LoRA adapter directory to merge in first" };
        var output = new Option<string>("--out", "-o") { Description = "GGUF file to write", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Type of the weight matrices: f32, f16 or bf16 (norms and biases are always f32)", DefaultValueFactory = _ => "f16" };
        var gguf = new Command("gguf", "Write a GGUF file that llama.cpp loads.") { model, adapter, output, dtype };
        gguf.SetAction(result => CommandErrors.Run(() =>
        {
            var type = ParseDtype(result.GetValue(dtype)!);
            string file = result.GetValue(output)!;
            GgufExporter.Export(result.GetValue(model)!, file, type, result.GetValue(adapter));
            Console.WriteLine($"wrote {Path.GetFullPath(file)} ({new FileInfo(file).Length / (1024.0 * 1024.0):F1} MiB)");
            return 0;
        }));
        return new Command("export", "Convert a model to another format.") { gguf };
    }

    static ScalarType ParseDtype(string name) => name.ToLowerInvariant() switch
    {
        "f32" or "fp32" or "float32" => ScalarType.Float32,
        "f16" or "fp16" or "float16" => ScalarType.Float16,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"--dtype '{name}' is not one of f32, f16, bf16"),
    };
}
