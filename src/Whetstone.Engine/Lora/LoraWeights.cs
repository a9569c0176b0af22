using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Whetstone.Engine.Lora;

/// <summary>The update ΔW = scale · B·A of one projection: A [rank, in], B [out, rank].</summary>
public sealed class LoraWeights(LoraTarget target, Parameter a, Parameter b)
{
    public LoraTarget Target { get; } = target;
    public Parameter A { get; } = a;
    public Parameter B { get; } = b;

    /// <summary>x [.., in] → scale · (x·Aᵀ)·Bᵀ [.., out], in x's dtype (the factors stay in their
    /// own, usually fp32, and gradients flow back through the cast).</summary>
    public Tensor Delta(Tensor x, double scale)
    {
        var a = A.dtype == x.dtype ? (Tensor)A : A.to(x.dtype);
        var b = B.dtype == x.dtype ? (Tensor)B : B.to(x.dtype);
        // Scale the rank-r intermediate, not the [.., out] result: r ≪ out.
        return nn.functional.linear(nn.functional.linear(x, a) * scale, b);
    }
}
