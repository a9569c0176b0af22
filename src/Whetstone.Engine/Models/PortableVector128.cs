using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Whetstone.Engine.Models;

/// <summary>The decode kernels' operations on 128-bit vectors, written only with the portable
/// <see cref="Vector128"/> API: NEON on ARM64, and the same code runs (and is tested) on x86.</summary>
internal readonly unsafe struct PortableVector128 : IDecodeVectors<Vector128<float>>
{
    public static int Count => 4;

    // ARM64 has 32 NEON registers; x86 has 32 only with AVX-512's EVEX encoding.
    public static bool HasThirtyTwoRegisters => AdvSimd.Arm64.IsSupported || Avx512F.VL.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, float* p) => value.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Create(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;

    // Fused where the CPU has FMA (every ARM64, x86 with FMA3), multiply then add elsewhere —
    // never the exactly-rounded software fallback of FusedMultiplyAdd.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Vector128<float> c0, Vector128<float> c1, Vector128<float> c2, Vector128<float> c3) =>
        Vector128.Create(Vector128.Sum(c0), Vector128.Sum(c1), Vector128.Sum(c2), Vector128.Sum(c3));

    // 4 bf16 (8 bytes) zero-extended to 32 bits and moved into the high half.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadBf16(ushort* p) =>
        Vector128.ShiftLeft(Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(ulong*)p).AsUInt16()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> EvenBf16(Vector128<float> pairs) => Vector128.ShiftLeft(pairs.AsUInt32(), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> OddBf16(Vector128<float> pairs) => (pairs.AsUInt32() & Vector128.Create(0xFFFF0000u)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Exp(Vector128<float> value) => Vector128.Exp(value);

    // .NET has no portable prefetch; on x86 the hint costs nothing to keep.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(void* p)
    {
        if (Sse.IsSupported) Sse.Prefetch1(p);
    }
}
