using TorchSharp.Utils;
using TorchSharp;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Pre-norm block: x + attn(norm(x)), then + mlp(norm(·)).</summary>
internal sealed class DecoderLayer : nn.Module
{
    [ComponentName(Name = "input_layernorm")] readonly RmsNorm _inputNorm;
    [ComponentName(Name = "self_attn")] readonly Attention _attention;
    [ComponentName(Name = "post_attention_layernorm")] readonly RmsNorm _postAttentionNorm;
    [ComponentName(Name = "mlp")] readonly SwiGluMlp _mlp;

    public DecoderLayer(WeightLoader weights, string name, ModelConfig config, int layer) : base(name)
    {
        _inputNorm = new RmsNorm(weights, $"{name}.input_layernorm", config.HiddenSize, config.RmsNormEps);
        _attention = new Attention(weights, $"{name}.self_attn", config, layer);
        _postAttentionNorm = new RmsNorm(weights, $"{name}.post_attention_layernorm", config.HiddenSize, config.RmsNormEps);
        _mlp = new SwiGluMlp(weights, $"{name}.mlp", config);
        RegisterComponents();
        _decodeKernel = new DecodeLayerKernel(_inputNorm, _attention, _postAttentionNorm, _mlp, config, layer);
    }

    // Not a module: the same parameters, used on raw memory by decode steps.
    readonly DecodeLayerKernel _decodeKernel;

    public Attention Attention => _attention;
    public SwiGluMlp Mlp => _mlp;

    public Tensor Forward(Tensor x, ForwardContext context)
    {
        if (DecodeLayerKernel.Applies(x, context)) return _decodeKernel.Forward(x, context);
        x = x + _attention.Forward(_inputNorm.Forward(x), context);
        return x + _mlp.Forward(_postAttentionNorm.Forward(x), context);
    }
}
