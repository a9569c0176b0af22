using System.Diagnostics;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>What this machine can do at best, measured in the same run as the benchmarks:
/// dense matmul FLOP/s per dtype and memory read bandwidth.</summary>
internal static class HardwarePeak
{
    /// <summary>The best FLOP/s of several matmul shapes — square ones and the
    /// [tokens × hidden]·[hidden × 3·hidden] shapes of the benchmarked models — so that "% of
    /// peak" is measured against the fastest this library gets on this machine.</summary>
    public static double MatmulFlops(ScalarType dtype)
    {
        (int M, int K, int N)[] shapes = [(1024, 1024, 1024), (2048, 2048, 2048), (1024, 768, 2304), (1024, 512, 1536), (2048, 768, 8192)];
        return shapes.Max(s => MatmulFlops(dtype, s.M, s.K, s.N));
    }

    static double MatmulFlops(ScalarType dtype, int m, int k, int n)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var a = randn(m, k).to(dtype);
        var b = randn(k, n).to(dtype);
        matmul(a, b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            matmul(a, b).Dispose();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * m * k * n / best;
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
