using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>Decode (and 256-token prefill) tokens/s with the decode kernels at each SIMD width this
/// process runs and with the torch path, alternating the widths round by round in one process so
/// that load on the machine hits all alike.</summary>
internal static class DecodeIsaComparison
{
    public static void Run(string preset, int[] streams, int rounds = 3)
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench", preset);
        if (!File.Exists(Path.Combine(directory, "config.json"))) RandomModelWriter.Write(directory, RandomModelSpec.Preset(preset));
        var isas = new[] { DecodeIsa.Avx512, DecodeIsa.Avx2, DecodeIsa.Vector128, DecodeIsa.Off }.Where(DecodeInstructionSet.IsSupported).ToArray();
        Console.WriteLine($"| model | dtype | measure | round | {string.Join(" | ", isas.Select(i => i == DecodeIsa.Off ? "torch" : i.ToString()))} tok/s |");
        Console.WriteLine($"|---|---|---|---|{string.Concat(isas.Select(_ => "---|"))}");
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var model = PretrainedModel.Load(directory, dtype);
            var engine = new InferenceBenchmark(model);
            var measures = streams.Select(count => ($"decode {count}", (Func<double>)(() => engine.DecodeTokensPerSecond(count, 48))))
                .Append(("prefill 256", () => engine.PrefillTokensPerSecond(1, 256))).ToArray();
            foreach (var (name, measure) in measures)
                for (int round = 1; round <= rounds; round++)
                {
                    var figures = isas.Select(isa =>
                    {
                        using var width = DecodeInstructionSet.Use(isa);
                        return measure();
                    }).ToArray();
                    Console.WriteLine($"| {preset} | {dtype} | {name} | {round} | {string.Join(" | ", figures.Select(f => f.ToString("F0")))} |");
                }
        }
    }
}
