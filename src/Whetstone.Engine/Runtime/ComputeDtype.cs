using System.Diagnostics;
using static TorchSharp.torch;

namespace Whetstone.Engine.Runtime;

/// <summary>Chooses the compute dtype. bf16 matmuls are ~4x faster than fp32 on CPUs with
/// AVX-512 BF16 (and on GPUs), but far slower on CPUs without it, so "auto" measures instead
/// of assuming: one small matmul in each dtype, once per process.</summary>
public static class ComputeDtype
{
    static readonly Lazy<(ScalarType Choice, double Speedup)> Probe = new(RunProbe);

    /// <summary>"fp32", "bf16", "fp16", "fp64" or "auto".</summary>
    public static ScalarType Parse(string name) => name.ToLowerInvariant() switch
    {
        "fp32" or "f32" or "float32" => ScalarType.Float32,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        "fp16" or "f16" or "float16" => ScalarType.Float16,
        "fp64" or "f64" or "float64" => ScalarType.Float64,
        "auto" => Probe.Value.Choice,
        _ => throw new ArgumentException($"dtype '{name}' is not one of fp32, bf16, fp16, fp64, auto"),
    };

    /// <summary>Same, for a model on <paramref name="device"/>: "auto" is bf16 on a GPU (every CUDA GPU
    /// this engine targets has bf16 tensor cores, and the CPU probe says nothing about it).</summary>
    public static ScalarType Parse(string name, Device device) =>
        !ComputeDevice.IsCpu(device) && name.Equals("auto", StringComparison.OrdinalIgnoreCase) ? ScalarType.BFloat16 : Parse(name);

    /// <summary>How much faster bf16 was than fp32 in the probe (>1 = faster).</summary>
    public static double MeasuredBf16Speedup => Probe.Value.Speedup;

    static (ScalarType, double) RunProbe()
    {
        double fp32 = TimeMatmul(ScalarType.Float32);
        double bf16 = TimeMatmul(ScalarType.BFloat16);
        double speedup = fp32 / bf16;
        return (speedup > 1.3 ? ScalarType.BFloat16 : ScalarType.Float32, speedup);
    }

    static double TimeMatmul(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var a = randn(256, 512, device: CPU).to(dtype);   // the probe measures the CPU's kernels
        var b = randn(512, 512, device: CPU).to(dtype);
        matmul(a, b);  // warm-up: first call picks kernels
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 8; i++) matmul(a, b).Dispose();
        return clock.Elapsed.TotalSeconds;
    }
}
