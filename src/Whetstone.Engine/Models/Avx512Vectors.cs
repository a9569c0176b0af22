using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Whetstone.Engine.Models;

/// <summary>The decode kernels' operations on 512-bit AVX-512 F/BW vectors.</summary>
internal readonly unsafe struct Avx512Vectors : IDecodeVectors<Vector512<float>>
{
    public static int Count => 16;
    public static bool HasThirtyTwoRegisters => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, float* p) => value.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Create(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3)
    {
        // Per 128-bit lane: c0 and c1 (and c2 and c3) folded to two partial sums each...
        var s01 = Avx512F.UnpackLow(c0, c1) + Avx512F.UnpackHigh(c0, c1);
        var s23 = Avx512F.UnpackLow(c2, c3) + Avx512F.UnpackHigh(c2, c3);
        // ...then (c0, c1, c2, c3) in every lane, and the four lanes added.
        var s = Avx512F.Shuffle(s01, s23, 0b01_00_01_00) + Avx512F.Shuffle(s01, s23, 0b11_10_11_10);
        var half = s.GetLower() + s.GetUpper();
        return half.GetLower() + half.GetUpper();
    }

    // Zero-extend 16 bf16 to 32 bits and move them into the high half.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadBf16(ushort* p) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(p)), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> EvenBf16(Vector512<float> pairs) => Avx512F.ShiftLeftLogical(pairs.AsUInt32(), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> OddBf16(Vector512<float> pairs) => (pairs.AsUInt32() & Vector512.Create(0xFFFF0000u)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Exp(Vector512<float> value) => Vector512.Exp(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Prefetch(void* p) => Sse.Prefetch1(p);
}
