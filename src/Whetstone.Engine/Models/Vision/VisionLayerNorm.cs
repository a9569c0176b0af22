using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>nn.LayerNorm with weight and bias (Qwen3-VL's vision norms, eps 1e-6), computed in
/// fp32 whatever the compute dtype, as <see cref="RmsNorm"/> is.</summary>
internal sealed class VisionLayerNorm : nn.Module
{
    [ComponentName(Name = "weight")] readonly Parameter _weight;
    [ComponentName(Name = "bias")] readonly Parameter _bias;
    readonly long _size;
    readonly double _eps;

    public VisionLayerNorm(WeightLoader weights, string name, long size, double eps) : base(name)
    {
        _weight = weights.Parameter($"{name}.weight", size);
        _bias = weights.Parameter($"{name}.bias", size);
        _size = size;
        _eps = eps;
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        var type = x.dtype;
        var wide = type == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        return nn.functional.layer_norm(x.to(wide), [_size], _weight.to(wide), _bias.to(wide), _eps).to(type);
    }
}
