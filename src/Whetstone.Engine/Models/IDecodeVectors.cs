using System.Runtime.Intrinsics;

namespace Whetstone.Engine.Models;

/// <summary>The few vector operations the decode kernels are written in, for one SIMD width
/// (<typeparamref name="TVector"/> = Vector512/256/128 of float). The kernels are generic over
/// an implementing struct, so the JIT compiles one specialised copy per width with every call
/// inlined: the tiling and loop structure is written once.</summary>
internal unsafe interface IDecodeVectors<TVector> where TVector : struct
{
    /// <summary>fp32 lanes per vector.</summary>
    static abstract int Count { get; }

    /// <summary>Whether the JIT has 32 vector registers at this width (AVX-512's EVEX encoding, or
    /// ARM64): a 4×4 tile's 16 accumulators plus operands fit; with 16 they would spill, and the
    /// tiles run as two passes of 2 weight rows × 4 input rows instead.</summary>
    static abstract bool HasThirtyTwoRegisters { get; }

    static abstract TVector Load(float* p);
    static abstract void Store(TVector value, float* p);
    static abstract TVector Create(float value);
    static abstract TVector Add(TVector a, TVector b);
    static abstract TVector Subtract(TVector a, TVector b);
    static abstract TVector Multiply(TVector a, TVector b);

    /// <summary>a·b + c, fused where the CPU has it.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract float Sum(TVector value);

    /// <summary>(Σc0, Σc1, Σc2, Σc3).</summary>
    static abstract Vector128<float> Sum4(TVector c0, TVector c1, TVector c2, TVector c3);

    /// <summary><see cref="Count"/> bf16 values from p, widened to fp32.</summary>
    static abstract TVector LoadBf16(ushort* p);

    /// <summary>Of <see cref="Count"/> packed pairs of bf16 (32 bits each, loaded as one vector): the
    /// even elements (the low halves) as fp32 — one shift.</summary>
    static abstract TVector EvenBf16(TVector pairs);

    /// <summary>The odd elements (the high halves) as fp32 — one mask.</summary>
    static abstract TVector OddBf16(TVector pairs);

    static abstract TVector Exp(TVector value);

    static abstract TVector Divide(TVector a, TVector b);

    /// <summary>Hint that p is read soon (into L2); nothing where the width has no prefetch.</summary>
    static abstract void Prefetch(void* p);
}
