using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Whetstone.Engine.Models;

/// <summary>The SIMD width the decode kernels (<see cref="DecodeMatmul"/>, <see cref="DecodeLayerKernel"/>)
/// run at. <see cref="Off"/> sends every product and layer to torch.</summary>
internal enum DecodeIsa
{
    Off,
    /// <summary>128-bit vectors through the portable <see cref="Vector128"/> API: NEON on ARM64, SSE/AVX on x86.</summary>
    Vector128,
    /// <summary>256-bit AVX2 with FMA.</summary>
    Avx2,
    /// <summary>512-bit AVX-512 F and BW.</summary>
    Avx512,
}

/// <summary>Which <see cref="DecodeIsa"/> the kernels use: the widest this CPU runs, chosen once at
/// start-up. WHET_DECODE_ISA (avx512, avx2, vector128, off) asks for a narrower one, to compare or
/// to run as an AVX2 or ARM machine would; WHET_DECODE_KERNEL=0 is the same as off. Tests and
/// benches switch it for one flow of execution with <see cref="Use"/> (an async-local override,
/// so tests running side by side do not see each other's choice).</summary>
internal static class DecodeInstructionSet
{
    /// <summary>The widest width this CPU and runtime execute.</summary>
    public static DecodeIsa Best { get; } =
        IsSupported(DecodeIsa.Avx512) ? DecodeIsa.Avx512 : IsSupported(DecodeIsa.Avx2) ? DecodeIsa.Avx2
        : IsSupported(DecodeIsa.Vector128) ? DecodeIsa.Vector128 : DecodeIsa.Off;

    /// <summary>The width chosen at start-up: <see cref="Best"/> unless the environment asks for less.</summary>
    public static DecodeIsa Default { get; } = FromEnvironment();

    static readonly AsyncLocal<DecodeIsa?> _override = new();

    /// <summary>The width the kernels use now, on this flow of execution.</summary>
    public static DecodeIsa Current => _override.Value ?? Default;

    public static bool IsSupported(DecodeIsa isa) => isa switch
    {
        DecodeIsa.Off => true,
        DecodeIsa.Vector128 => Vector128.IsHardwareAccelerated,
        DecodeIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        DecodeIsa.Avx512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported,
        _ => false,
    };

    /// <summary>Runs the kernels at <paramref name="isa"/> on this flow of execution until the
    /// returned scope is disposed.</summary>
    public static IDisposable Use(DecodeIsa isa)
    {
        if (!IsSupported(isa)) throw new PlatformNotSupportedException($"decode ISA {isa}: this CPU runs at most {Best}");
        var previous = _override.Value;
        _override.Value = isa;
        return new Scope(previous);
    }

    sealed class Scope(DecodeIsa? previous) : IDisposable
    {
        public void Dispose() => _override.Value = previous;
    }

    public static DecodeIsa Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "avx512" or "avx-512" => DecodeIsa.Avx512,
        "avx2" => DecodeIsa.Avx2,
        "vector128" or "neon" or "128" => DecodeIsa.Vector128,
        "off" or "torch" or "0" => DecodeIsa.Off,
        _ => throw new ArgumentException($"WHET_DECODE_ISA = '{value}': expected avx512, avx2, vector128 or off"),
    };

    static DecodeIsa FromEnvironment()
    {
        if (Environment.GetEnvironmentVariable("WHET_DECODE_KERNEL") == "0") return DecodeIsa.Off;
        if (Environment.GetEnvironmentVariable("WHET_DECODE_ISA") is not { Length: > 0 } asked) return Best;
        var isa = Parse(asked);
        // Asking for more than the CPU has falls back to the best it has, rather than crashing the host.
        return IsSupported(isa) ? isa : Best;
    }
}
