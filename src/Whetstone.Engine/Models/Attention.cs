using TorchSharp.Utils;
using TorchSharp;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Grouped-query self-attention with rotary positions; optional q/k/v biases (Qwen2)
/// and per-head RMSNorm on queries and keys (Qwen3).</summary>
internal sealed class Attention : nn.Module
{
    [ComponentName(Name = "q_proj")] readonly LinearProjection _queryProjection;
    [ComponentName(Name = "k_proj")] readonly LinearProjection _keyProjection;
    [ComponentName(Name = "v_proj")] readonly LinearProjection _valueProjection;
    [ComponentName(Name = "o_proj")] readonly LinearProjection _outputProjection;
    [ComponentName(Name = "q_norm")] readonly RmsNorm? _queryNorm;
    [ComponentName(Name = "k_norm")] readonly RmsNorm? _keyNorm;
    readonly int _heads, _kvHeads, _headDim, _layer;

    public Attention(WeightLoader weights, string name, ModelConfig config, int layer) : base(name)
    {
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _layer = layer;
        long hidden = config.HiddenSize;
        _queryProjection = new LinearProjection(weights, $"{name}.q_proj", hidden, _heads * _headDim, config.AttentionBias);
        _keyProjection = new LinearProjection(weights, $"{name}.k_proj", hidden, _kvHeads * _headDim, config.AttentionBias);
        _valueProjection = new LinearProjection(weights, $"{name}.v_proj", hidden, _kvHeads * _headDim, config.AttentionBias);
        _outputProjection = new LinearProjection(weights, $"{name}.o_proj", _heads * _headDim, hidden, false);
        if (config.QkNorm)
        {
            _queryNorm = new RmsNorm(weights, $"{name}.q_norm", _headDim, config.RmsNormEps);
            _keyNorm = new RmsNorm(weights, $"{name}.k_norm", _headDim, config.RmsNormEps);
        }
        RegisterComponents();
    }

    public RmsNorm? QueryNorm => _queryNorm;
    public RmsNorm? KeyNorm => _keyNorm;

    public IEnumerable<LinearProjection> Projections => [_queryProjection, _keyProjection, _valueProjection, _outputProjection];

    public Tensor Forward(Tensor x, ForwardContext context)
    {
        long batch = x.shape[0], time = x.shape[1];
        var q = _queryProjection.Forward(x, context).view(batch, time, _heads, _headDim);     // [B, T, H, D]
        var k = _keyProjection.Forward(x, context).view(batch, time, _kvHeads, _headDim);     // [B, T, kvH, D]
        var v = _valueProjection.Forward(x, context).view(batch, time, _kvHeads, _headDim);
        if (_queryNorm is not null) q = _queryNorm.Forward(q);
        if (_keyNorm is not null) k = _keyNorm!.Forward(k);
        q = RotaryEmbedding.Apply(q, context.Cos, context.Sin).transpose(1, 2);     // [B, H, T, D]
        k = RotaryEmbedding.Apply(k, context.Cos, context.Sin).transpose(1, 2);     // [B, kvH, T, D]
        v = v.transpose(1, 2);

        var output = context.Cache is null
            ? CausalAttention(q, k, v)
            : CachedAttention(q, k, v, context);                                    // [B, H, T, D]
        return _outputProjection.Forward(output.transpose(1, 2).reshape(batch, time, _heads * _headDim), context);
    }

    // Whole sequences, no cache (the learner's path): repeat K/V per query group and let SDPA
    // apply its causal mask. Right padding is harmless: pads come after every real query.
    Tensor CausalAttention(Tensor q, Tensor k, Tensor v)
    {
        int group = _heads / _kvHeads;
        if (group > 1)
        {
            k = RepeatKv(k, group);
            v = RepeatKv(v, group);
        }
        return nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
    }

    // With a cache: the G query heads that share one K/V head are folded into the query-length
    // axis ([B, kvH, G·T, D]), so the cache is read as is and never copied per head.
    // SDPA's own causal flag is top-left aligned and cannot express per-row positions, so the
    // mask (key position ≤ query position) is explicit.
    Tensor CachedAttention(Tensor q, Tensor k, Tensor v, ForwardContext context)
    {
        long batch = q.shape[0], time = q.shape[2];
        int group = _heads / _kvHeads;
        var (keys, values) = context.Cache!.Update(_layer, k, v, context.Positions, context.KeyLength);
        var groupedQ = q.reshape(batch, _kvHeads, group * time, _headDim);
        var mask = context.Mask!;                                                    // [B, 1, T, L]
        if (group > 1)
            mask = mask.unsqueeze(2).expand(batch, 1, group, time, context.KeyLength).reshape(batch, 1, group * time, context.KeyLength);
        var output = nn.functional.scaled_dot_product_attention(groupedQ, keys, values, attn_mask: mask);
        return output.view(batch, _heads, time, _headDim);
    }

    // [B, kvH, T, D] -> [B, kvH·G, T, D], head h = kv·G + g as in Hugging Face's repeat_kv.
    static Tensor RepeatKv(Tensor x, int group)
    {
        long b = x.shape[0], kv = x.shape[1], t = x.shape[2], d = x.shape[3];
        return x.unsqueeze(2).expand(b, kv, group, t, d).reshape(b, kv * group, t, d);
    }
}
