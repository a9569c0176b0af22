using System.Diagnostics;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>What this machine can do at best, measured in the same run as the benchmarks:
/// dense matmul FLOP/s per dtype and memory read bandwidth.</summary>
internal static class HardwarePeak
{
    /// <summary>Best of several large square matmuls, FLOP/s.</summary>
    public static double MatmulFlops(ScalarType dtype, int n = 2048)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var a = randn(n, n).to(dtype);
        var b = randn(n, n).to(dtype);
        matmul(a, b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            matmul(a, b).Dispose();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best;
    }

    /// <summary>Read bandwidth in bytes/s: summing a buffer far larger than the caches, the
    /// access pattern of decoding (every weight read once per token).</summary>
    public static double ReadBandwidth(long bytes = 1L << 30)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var buffer = ones(bytes / 4, ScalarType.Float32);
        buffer.sum().Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            buffer.sum().Dispose();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return bytes / best;
    }
}
