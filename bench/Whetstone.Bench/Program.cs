using System.Globalization;
using Whetstone.Bench;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

// Usage: dotnet run -c Release --project bench/Whetstone.Bench -- [presets, default 5m,30m,120m] [--quick]
// Prints a markdown table of prefill and decode speed next to this machine's measured peaks.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
bool quick = args.Contains("--quick");
var presets = args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("5m,30m,120m").First().Split(',');
int threads = get_num_threads();

Console.WriteLine($"# Whetstone inference benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"machine: {Environment.ProcessorCount} logical cores, torch threads {threads}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
var peak = new Dictionary<ScalarType, double>
{
    [ScalarType.Float32] = HardwarePeak.MatmulFlops(ScalarType.Float32),
    [ScalarType.BFloat16] = HardwarePeak.MatmulFlops(ScalarType.BFloat16),
};
double bandwidth = HardwarePeak.ReadBandwidth();
Console.WriteLine($"measured peaks: fp32 matmul {peak[ScalarType.Float32] / 1e9:F1} GFLOP/s, bf16 matmul {peak[ScalarType.BFloat16] / 1e9:F1} GFLOP/s, read bandwidth {bandwidth / 1e9:F1} GB/s");
Console.WriteLine();
Console.WriteLine("| model | params | dtype | prefill tok/s (4×256) | prefill % of matmul peak | decode b=1 tok/s | b=1 % of bandwidth bound | decode b=16 tok/s |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");

foreach (var preset in presets)
{
    var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench", preset);
    if (!File.Exists(Path.Combine(directory, "config.json")))
        RandomModelWriter.Write(directory, RandomModelSpec.Preset(preset));
    foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
    {
        using var model = PretrainedModel.Load(directory, dtype);
        var bench = new InferenceBenchmark(model);
        long parameters = model.Network.parameters().Sum(p => p.numel());
        int decodeTokens = quick ? 16 : 64;
        double prefill = bench.PrefillTokensPerSecond(4, 256);
        double prefillShare = prefill * bench.PrefillFlops(4, 256) / (4 * 256) / peak[dtype];
        double decode1 = bench.DecodeTokensPerSecond(1, decodeTokens);
        double bound = bandwidth / bench.WeightBytesPerToken(dtype);
        double decode16 = bench.DecodeTokensPerSecond(16, decodeTokens);
        Console.WriteLine($"| {preset} | {parameters / 1e6:F1}M | {(dtype == ScalarType.Float32 ? "fp32" : "bf16")} | {prefill:F0} | {100 * prefillShare:F0}% | {decode1:F1} | {100 * decode1 / bound:F0}% (bound {bound:F0}) | {decode16:F1} |");
    }
}
