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
    /// <para>On a GPU the shapes are larger (a GPU needs them to reach its peak) and each timing
    /// waits for the device to finish.</para>
    public static double MatmulFlops(ScalarType dtype, Device? device = null)
    {
        device ??= CPU;
        (int M, int K, int N)[] shapes = device.type == TorchSharp.DeviceType.CPU
            ? [(1024, 1024, 1024), (2048, 2048, 2048), (1024, 768, 2304), (1024, 512, 1536), (2048, 768, 8192)]
            : [(4096, 4096, 4096), (8192, 8192, 8192), (4096, 768, 2304), (8192, 4096, 14336)];
        return shapes.Max(s => MatmulFlops(dtype, s.M, s.K, s.N, device));
    }

    static double MatmulFlops(ScalarType dtype, int m, int k, int n, Device device)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var a = randn(m, k, device: device).to(dtype);
        var b = randn(k, n, device: device).to(dtype);
        matmul(a, b).Dispose();
        Synchronize(device);
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            matmul(a, b).Dispose();
            Synchronize(device);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * m * k * n / best;
    }

    /// <summary>Waits for the work queued on a GPU (timings of asynchronous kernels); nothing on the CPU.</summary>
    public static void Synchronize(Device device)
    {
        if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize(device);
    }

    /// <summary>Read bandwidth in bytes/s: summing a buffer far larger than the caches, the
    /// access pattern of decoding (every weight read once per token).</summary>
    public static double ReadBandwidth(long bytes = 1L << 30, Device? device = null)
    {
        device ??= CPU;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var buffer = ones(bytes / 4, ScalarType.Float32, device: device);
        buffer.sum().Dispose();
        Synchronize(device);
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            buffer.sum().Dispose();
            Synchronize(device);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return bytes / best;
    }
}
