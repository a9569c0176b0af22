using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Whetstone.Engine.Models;

/// <summary>The decode kernels' operations on 256-bit AVX2 + FMA vectors.</summary>
internal readonly unsafe struct Avx2Vectors : IDecodeVectors<Vector256<float>>
{
    public static int Count => 8;

    // On an AVX-512 CPU the JIT encodes 256-bit code with EVEX and has 32 registers; on an
    // AVX2-only one (or with DOTNET_EnableAVX512F=0) it has 16.
    public static bool HasThirtyTwoRegisters => Avx512F.VL.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, float* p) => value.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Create(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3)
    {
        // As Avx512Vectors.Sum4, over two 128-bit lanes.
        var s01 = Avx.UnpackLow(c0, c1) + Avx.UnpackHigh(c0, c1);
        var s23 = Avx.UnpackLow(c2, c3) + Avx.UnpackHigh(c2, c3);
        var s = Avx.Shuffle(s01, s23, 0b01_00_01_00) + Avx.Shuffle(s01, s23, 0b11_10_11_10);
        return s.GetLower() + s.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBf16(ushort* p) => Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(p), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> EvenBf16(Vector256<float> pairs) => Avx2.ShiftLeftLogical(pairs.AsUInt32(), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> OddBf16(Vector256<float> pairs) => (pairs.AsUInt32() & Vector256.Create(0xFFFF0000u)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Exp(Vector256<float> value) => Vector256.Exp(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Prefetch(void* p) => Sse.Prefetch1(p);
}
