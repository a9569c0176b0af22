using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>One pre-norm ViT block of Qwen3-VL (Qwen3VLVisionBlock): LayerNorms with biases, the
/// same rotary attention as Qwen2.5-VL (<see cref="VisionAttention"/>), and a plain two-layer MLP.</summary>
internal sealed class Qwen3VisionBlock : nn.Module
{
    [ComponentName(Name = "norm1")] readonly VisionLayerNorm _norm1;
    [ComponentName(Name = "norm2")] readonly VisionLayerNorm _norm2;
    [ComponentName(Name = "attn")] readonly VisionAttention _attention;
    [ComponentName(Name = "mlp")] readonly Qwen3VisionMlp _mlp;

    public Qwen3VisionBlock(WeightLoader weights, string name, VisionConfig config) : base(name)
    {
        _norm1 = new VisionLayerNorm(weights, $"{name}.norm1", config.HiddenSize, config.RmsNormEps);
        _norm2 = new VisionLayerNorm(weights, $"{name}.norm2", config.HiddenSize, config.RmsNormEps);
        _attention = new VisionAttention(weights, $"{name}.attn", config);
        _mlp = new Qwen3VisionMlp(weights, $"{name}.mlp", config);
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

/// <summary>linear_fc2(gelu_tanh(linear_fc1(x))), both with biases (Qwen3VLVisionMLP, hidden_act
/// gelu_pytorch_tanh).</summary>
internal sealed class Qwen3VisionMlp : nn.Module
{
    [ComponentName(Name = "linear_fc1")] readonly LinearProjection _fc1;   // [intermediate, hidden]
    [ComponentName(Name = "linear_fc2")] readonly LinearProjection _fc2;   // [hidden, intermediate]

    public Qwen3VisionMlp(WeightLoader weights, string name, VisionConfig config) : base(name)
    {
        _fc1 = new LinearProjection(weights, $"{name}.linear_fc1", config.HiddenSize, config.IntermediateSize, true);
        _fc2 = new LinearProjection(weights, $"{name}.linear_fc2", config.IntermediateSize, config.HiddenSize, true);
        RegisterComponents();
    }

    public IEnumerable<LinearProjection> Projections => [_fc1, _fc2];

    public Tensor Forward(Tensor x, ForwardContext context) => _fc2.Forward(GeluTanh(_fc1.Forward(x, context)), context);

    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): torch's gelu(approximate='tanh').</summary>
    internal static Tensor GeluTanh(Tensor x) => 0.5 * x * (1 + tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x.pow(3))));
}
