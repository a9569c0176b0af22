using Whetstone.Engine.Runtime;
using TorchSharp.Utils;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Root-mean-square norm, computed in fp32 whatever the compute dtype (as Hugging Face
/// does): the variance of bf16 activations loses too much precision otherwise.</summary>
internal sealed class RmsNorm : nn.Module
{
    [ComponentName(Name = "weight")] readonly Parameter _weight;
    readonly double _eps;
    // Rooted for the module's life, as Runtime/Scalars explains: `+ _eps` made a Scalar (and an
    // alpha of 1) that a GC could free mid-op; CI saw "toFloat" fail here under load (2026-12-07).
    readonly Scalar _epsScalar;

    public RmsNorm(WeightLoader weights, string name, long size, double eps) : base(name)
    {
        _weight = weights.Parameter($"{name}.weight", size);
        _eps = eps;
        _epsScalar = eps.ToScalar();
        RegisterComponents();
    }

    public Tensor Weight => _weight;
    public double Eps => _eps;

    public Tensor Forward(Tensor x)
    {
        var inputType = x.dtype;
        var h = inputType == ScalarType.Float64 ? x : x.to(ScalarType.Float32);
        h = h * rsqrt(h.pow(Scalars.Two).mean([-1L], keepdim: true).add(_epsScalar, Scalars.One));
        return _weight * h.to(inputType);
    }
}
