using TorchSharp.Utils;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>y = x·Wᵀ (+ b), with W stored [out, in] as in Hugging Face checkpoints.</summary>
internal sealed class LinearProjection : nn.Module
{
    [ComponentName(Name = "weight")] readonly Parameter _weight;
    [ComponentName(Name = "bias")] readonly Parameter? _bias;

    /// <summary>Hugging Face module path, e.g. model.layers.3.self_attn.q_proj: the key LoRA adapters use.</summary>
    public string Path { get; }
    public long InFeatures { get; }
    public long OutFeatures { get; }

    public LinearProjection(WeightLoader weights, string name, long inFeatures, long outFeatures, bool bias) : base(name)
    {
        Path = name;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        _weight = weights.Parameter($"{name}.weight", outFeatures, inFeatures);
        if (bias) _bias = weights.Parameter($"{name}.bias", outFeatures);
        RegisterComponents();
    }

    public Tensor Weight => _weight;
    public Tensor? Bias => _bias;

    // [.., in] -> [.., out], plus the low-rank updates of the adapters of the rows.
    public Tensor Forward(Tensor x, ForwardContext context) => Forward(x, context.Adapters);

    public Tensor Forward(Tensor x, Lora.AdapterBatch? adapters)
    {
        var y = DecodeMatmul.Applies(x, _weight) ? DecodeMatmul.Linear(x, _weight, _bias) : nn.functional.linear(x, _weight, _bias);
        return adapters is null ? y : adapters.Apply(Path, x, y);
    }
}
