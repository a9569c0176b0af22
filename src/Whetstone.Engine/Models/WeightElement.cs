using System.Runtime.CompilerServices;

namespace Whetstone.Engine.Models;

/// <summary>How the decode kernels read one stored weight type: fp32 as it is, bf16 widened to
/// fp32 on load. Kernels are generic over an implementing struct (as over the SIMD width), so the
/// JIT compiles one specialised copy per type and the loop is written once.</summary>
internal unsafe interface IWeightElement<TElement> where TElement : unmanaged
{
    /// <summary><c>TIsa.Count</c> weights from p, as fp32 lanes.</summary>
    static abstract TVector Load<TIsa, TVector>(TElement* p) where TIsa : IDecodeVectors<TVector> where TVector : struct;

    static abstract float ToFloat(TElement value);
}

internal readonly unsafe struct Fp32Weights : IWeightElement<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Load<TIsa, TVector>(float* p) where TIsa : IDecodeVectors<TVector> where TVector : struct => TIsa.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(float value) => value;
}

internal readonly unsafe struct Bf16Weights : IWeightElement<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Load<TIsa, TVector>(ushort* p) where TIsa : IDecodeVectors<TVector> where TVector : struct => TIsa.LoadBf16(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort value) => DecodeMatmul.Bf16ToFloat(value);
}
