using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>One pre-norm ViT block of Qwen2.5-VL: x + attn(norm1(x)), then + mlp(norm2(x)), with
/// RMSNorm and a gated SiLU MLP whose projections carry biases (Qwen2_5_VLVisionBlock).</summary>
internal sealed class VisionBlock : nn.Module
{
    [ComponentName(Name = "norm1")] readonly RmsNorm _norm1;
    [ComponentName(Name = "norm2")] readonly RmsNorm _norm2;
    [ComponentName(Name = "attn")] readonly VisionAttention _attention;
    [ComponentName(Name = "mlp")] readonly VisionMlp _mlp;

    public VisionBlock(WeightLoader weights, string name, VisionConfig config) : base(name)
    {
        _norm1 = new RmsNorm(weights, $"{name}.norm1", config.HiddenSize, config.RmsNormEps);
        _norm2 = new RmsNorm(weights, $"{name}.norm2", config.HiddenSize, config.RmsNormEps);
        _attention = new VisionAttention(weights, $"{name}.attn", config);
        _mlp = new VisionMlp(weights, $"{name}.mlp", config);
        RegisterComponents();
    }

    public IEnumerable<LinearProjection> Projections => _attention.Projections.Concat(_mlp.Projections);

    /// <summary>x: [1, N, hidden].</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, ForwardContext context)
    {
        x = x + _attention.Forward(_norm1.Forward(x), cos, sin, mask, context);
        return x + _mlp.Forward(_norm2.Forward(x), context);
    }
}

/// <summary>down(silu(gate(x)) · up(x)), biases on all three (Qwen2_5_VLMLP).</summary>
internal sealed class VisionMlp : nn.Module
{
    [ComponentName(Name = "gate_proj")] readonly LinearProjection _gate;   // [intermediate, hidden]
    [ComponentName(Name = "up_proj")] readonly LinearProjection _up;       // [intermediate, hidden]
    [ComponentName(Name = "down_proj")] readonly LinearProjection _down;   // [hidden, intermediate]

    public VisionMlp(WeightLoader weights, string name, VisionConfig config) : base(name)
    {
        _gate = new LinearProjection(weights, $"{name}.gate_proj", config.HiddenSize, config.IntermediateSize, true);
        _up = new LinearProjection(weights, $"{name}.up_proj", config.HiddenSize, config.IntermediateSize, true);
        _down = new LinearProjection(weights, $"{name}.down_proj", config.IntermediateSize, config.HiddenSize, true);
        RegisterComponents();
    }

    public IEnumerable<LinearProjection> Projections => [_gate, _up, _down];

    public Tensor Forward(Tensor x, ForwardContext context) =>
        _down.Forward(nn.functional.silu(_gate.Forward(x, context)) * _up.Forward(x, context), context);
}
