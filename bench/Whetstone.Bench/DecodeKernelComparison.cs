using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>Decode tokens/s with the decode kernels (at the start-up SIMD width) against libtorch's path on the same
/// model, alternating A and B in one process so that load on the machine hits both alike.</summary>
internal static class DecodeKernelComparison
{
    public static void Run(string preset, int[] streams, int rounds = 3)
    {
        Products();
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench", preset);
        if (!File.Exists(Path.Combine(directory, "config.json"))) RandomModelWriter.Write(directory, RandomModelSpec.Preset(preset));
        Console.WriteLine("| model | dtype | streams | round | kernel tok/s | torch tok/s | kernel ÷ torch |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        int kernelRows = DecodeMatmul.MaxRows, kernelFp32Rows = DecodeMatmul.MaxFp32Rows;
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var model = PretrainedModel.Load(directory, dtype);
            var engine = new InferenceBenchmark(model);
            foreach (int count in streams)
                for (int round = 1; round <= rounds; round++)
                {
                    (DecodeMatmul.MaxRows, DecodeMatmul.MaxFp32Rows) = (kernelRows, kernelFp32Rows);
                    double kernel = engine.DecodeTokensPerSecond(count, 48);
                    (DecodeMatmul.MaxRows, DecodeMatmul.MaxFp32Rows) = (0, 0);
                    double torch = engine.DecodeTokensPerSecond(count, 48);
                    (DecodeMatmul.MaxRows, DecodeMatmul.MaxFp32Rows) = (kernelRows, kernelFp32Rows);
                    Console.WriteLine($"| {preset} | {dtype} | {count} | {round} | {kernel:F0} | {torch:F0} | {kernel / torch:F2}x |");
                }
        }
    }

    // One product at decode shapes (16 rows × 512 → 1536), alone: kernel vs torch GFLOP/s.
    static void Products()
    {
        using var _ = no_grad();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            foreach (var (rows, inFeatures, outFeatures) in new[] { (16, 512, 1536), (16, 1536, 512), (4, 512, 1536), (1, 512, 1536) })
            {
                using var scope = NewDisposeScope();
                var x = randn(rows, inFeatures).to(dtype);
                var w = randn(outFeatures, inFeatures).to(dtype);
                double flops = 2.0 * rows * inFeatures * outFeatures * 200;
                double kernel = flops / BestTime.Seconds(() => { for (int i = 0; i < 200; i++) DecodeMatmul.Linear(x, w, null).Dispose(); }) / 1e9;
                double torch = flops / BestTime.Seconds(() => { for (int i = 0; i < 200; i++) nn.functional.linear(x, w).Dispose(); }) / 1e9;
                Console.WriteLine($"product {dtype} {rows}×{inFeatures}→{outFeatures}: kernel {kernel:F1} GFLOP/s, torch {torch:F1} GFLOP/s");
            }
    }
}
