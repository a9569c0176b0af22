using TorchSharp.Utils;
using TorchSharp;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Pre-norm block: x + attn(norm(x)), then + mlp(norm(·)). The attention is grouped-query
/// or, with an MLA config, latent (<see cref="MlaAttention"/>); the MLP is dense or, on the layers
/// the config makes sparse, a mixture of experts (<see cref="MoeFeedForward"/>). Both sit under
/// the checkpoint's own names (self_attn, mlp), whichever kind they are.</summary>
internal sealed class DecoderLayer : nn.Module
{
    [ComponentName(Name = "input_layernorm")] readonly RmsNorm _inputNorm;
    [ComponentName(Name = "self_attn")] readonly Attention? _attention;
    [ComponentName(Name = "self_attn")] readonly MlaAttention? _latentAttention;
    [ComponentName(Name = "post_attention_layernorm")] readonly RmsNorm _postAttentionNorm;
    [ComponentName(Name = "mlp")] readonly SwiGluMlp? _mlp;
    [ComponentName(Name = "mlp")] readonly MoeFeedForward? _experts;

    public DecoderLayer(WeightLoader weights, string name, ModelConfig config, int layer) : base(name)
    {
        _inputNorm = new RmsNorm(weights, $"{name}.input_layernorm", config.HiddenSize, config.RmsNormEps);
        if (config.Mla is null) _attention = new Attention(weights, $"{name}.self_attn", config, layer);
        else _latentAttention = new MlaAttention(weights, $"{name}.self_attn", config, layer);
        _postAttentionNorm = new RmsNorm(weights, $"{name}.post_attention_layernorm", config.HiddenSize, config.RmsNormEps);
        if (config.Moe?.IsSparseLayer(layer) == true) _experts = new MoeFeedForward(weights, $"{name}.mlp", config, layer);
        else _mlp = new SwiGluMlp(weights, $"{name}.mlp", config);
        RegisterComponents();
        if (_attention is not null && _mlp is not null)
            _decodeKernel = new DecodeLayerKernel(_inputNorm, _attention, _postAttentionNorm, _mlp, config, layer);
    }

    // Not a module: the same parameters, used on raw memory by decode steps (dense GQA layers only).
    readonly DecodeLayerKernel? _decodeKernel;

    /// <summary>The grouped-query attention; null for MLA layers.</summary>
    public Attention? Attention => _attention;
    /// <summary>The dense MLP; null for MoE layers.</summary>
    public SwiGluMlp? Mlp => _mlp;
    public MoeFeedForward? Experts => _experts;

    /// <summary>The attention's projections, whichever kind it is.</summary>
    public IEnumerable<LinearProjection> AttentionProjections => _attention?.Projections ?? _latentAttention!.Projections;

    /// <summary>The projections of the dense MLP, or of an MoE layer's shared experts and every
    /// routed expert (each expert its own LoRA target, see <see cref="MoeFeedForward"/>).</summary>
    public IEnumerable<LinearProjection> MlpProjections => _mlp?.Projections
        ?? (_experts!.SharedExperts?.Projections ?? []).Concat(_experts.Experts.SelectMany(e => e.Projections));

    public Tensor Forward(Tensor x, ForwardContext context)
    {
        if (_decodeKernel is not null && DecodeLayerKernel.Applies(x, context)) return _decodeKernel.Forward(x, context);
        var normed = _inputNorm.Forward(x);
        x = x + (_attention is not null ? _attention.Forward(normed, context) : _latentAttention!.Forward(normed, context));
        normed = _postAttentionNorm.Forward(x);
        return x + (_mlp is not null ? _mlp.Forward(normed, context) : _experts!.Forward(normed, context));
    }
}
