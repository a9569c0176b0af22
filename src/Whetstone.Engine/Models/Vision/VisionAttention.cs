using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>Bidirectional multi-head attention over patches with 2-D rotary positions
/// (Qwen2.5-VL's Qwen2_5_VLVisionAttention): one fused qkv projection, both with biases.</summary>
internal sealed class VisionAttention : nn.Module
{
    [ComponentName(Name = "qkv")] readonly LinearProjection _qkv;    // weight [3·hidden, hidden]
    [ComponentName(Name = "proj")] readonly LinearProjection _proj;  // weight [hidden, hidden]
    readonly int _heads, _headDim;

    public VisionAttention(WeightLoader weights, string name, VisionConfig config) : base(name)
    {
        _heads = config.NumHeads;
        _headDim = config.HeadDim;
        _qkv = new LinearProjection(weights, $"{name}.qkv", config.HiddenSize, 3L * config.HiddenSize, true);
        _proj = new LinearProjection(weights, $"{name}.proj", config.HiddenSize, config.HiddenSize, true);
        RegisterComponents();
    }

    public IEnumerable<LinearProjection> Projections => [_qkv, _proj];

    /// <summary>x: [1, N, hidden]; cos, sin: [N, 1, D]; mask: [N, N] bool, true = attend.</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, ForwardContext context)
    {
        long n = x.shape[1];
        var qkv = _qkv.Forward(x, context).view(n, 3, _heads, _headDim).permute(1, 0, 2, 3);   // [3, N, H, D]
        var q = RotaryEmbedding.Apply(qkv[0], cos, sin).transpose(0, 1).unsqueeze(0);          // [1, H, N, D]
        var k = RotaryEmbedding.Apply(qkv[1], cos, sin).transpose(0, 1).unsqueeze(0);
        var v = qkv[2].transpose(0, 1).unsqueeze(0);
        var output = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask.view(1, 1, n, n)); // [1, H, N, D]
        return _proj.Forward(output.squeeze(0).transpose(0, 1).reshape(1, n, _heads * _headDim), context);
    }
}
