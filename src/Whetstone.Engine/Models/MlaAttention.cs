using Whetstone.Engine.Runtime;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Multi-head latent attention (DeepSeek-V2/V3, Kimi K2), parameters named as in
/// Hugging Face's modeling_deepseek.py. Per token, keys and values of all H heads come from one
/// latent c_kv of kv_lora_rank numbers (kv_a_proj_with_mqa, normed by kv_a_layernorm, expanded per
/// head by kv_b_proj) plus one rope key of qk_rope_head_dim shared by every head; queries take an
/// optional low-rank bottleneck (q_a_proj → q_a_layernorm → q_b_proj, or one q_proj). RoPE turns
/// only the rope part of each head. The cache keeps the normed latent and the turned rope key —
/// (kv_lora_rank + qk_rope_head_dim) numbers per token per layer instead of H·(d_qk + d_v) — and
/// every step rebuilds the heads' keys and values from it through kv_b_proj (so a LoRA adapter on
/// kv_b_proj applies to cached tokens too). Plain torch ops; no decode kernel yet.</summary>
internal sealed class MlaAttention : nn.Module
{
    [ComponentName(Name = "q_proj")] readonly LinearProjection? _queryProjection;
    [ComponentName(Name = "q_a_proj")] readonly LinearProjection? _queryDown;
    [ComponentName(Name = "q_a_layernorm")] readonly RmsNorm? _queryNorm;
    [ComponentName(Name = "q_b_proj")] readonly LinearProjection? _queryUp;
    [ComponentName(Name = "kv_a_proj_with_mqa")] readonly LinearProjection _keyValueDown;
    [ComponentName(Name = "kv_a_layernorm")] readonly RmsNorm _keyValueNorm;
    [ComponentName(Name = "kv_b_proj")] readonly LinearProjection _keyValueUp;
    [ComponentName(Name = "o_proj")] readonly LinearProjection _outputProjection;
    readonly int _heads, _nope, _rope, _valueDim, _rank, _layer;
    readonly double _softmaxScale;

    public MlaAttention(WeightLoader weights, string name, ModelConfig config, int layer) : base(name)
    {
        var mla = config.Mla!;
        _heads = config.NumAttentionHeads;
        (_nope, _rope, _valueDim, _rank, _layer) = (mla.QkNopeHeadDim, mla.QkRopeHeadDim, mla.VHeadDim, mla.KvLoraRank, layer);
        // 1/√d_qk, times YaRN's mscale(factor, mscale_all_dim)² when the context is stretched.
        _softmaxScale = config.RopeScaling.SoftmaxScaleFactor / Math.Sqrt(mla.QkHeadDim);
        long hidden = config.HiddenSize, queryWidth = (long)_heads * mla.QkHeadDim;
        // DeepseekV3RMSNorm's default eps (1e-6) is what the reference code builds these two norms with.
        if (mla.QLoraRank is int qRank)
        {
            _queryDown = new LinearProjection(weights, $"{name}.q_a_proj", hidden, qRank, false);
            _queryNorm = new RmsNorm(weights, $"{name}.q_a_layernorm", qRank, 1e-6);
            _queryUp = new LinearProjection(weights, $"{name}.q_b_proj", qRank, queryWidth, false);
        }
        else _queryProjection = new LinearProjection(weights, $"{name}.q_proj", hidden, queryWidth, false);
        _keyValueDown = new LinearProjection(weights, $"{name}.kv_a_proj_with_mqa", hidden, _rank + _rope, false);
        _keyValueNorm = new RmsNorm(weights, $"{name}.kv_a_layernorm", _rank, 1e-6);
        _keyValueUp = new LinearProjection(weights, $"{name}.kv_b_proj", _rank, (long)_heads * (_nope + _valueDim), false);
        _outputProjection = new LinearProjection(weights, $"{name}.o_proj", (long)_heads * _valueDim, hidden, false);
        RegisterComponents();
    }

    public IEnumerable<LinearProjection> Projections =>
        new[] { _queryProjection, _queryDown, _queryUp, _keyValueDown, _keyValueUp, _outputProjection }.OfType<LinearProjection>();

    public Tensor Forward(Tensor x, ForwardContext context)
    {
        long batch = x.shape[0], time = x.shape[1];
        var q = (_queryProjection is not null
            ? _queryProjection.Forward(x, context)
            : _queryUp!.Forward(_queryNorm!.Forward(_queryDown!.Forward(x, context)), context))
            .view(batch, time, _heads, _nope + _rope);                                       // [B, T, H, nope+rope]
        var queryNope = q[TensorIndex.Ellipsis, TensorIndex.Slice(0, _nope)];
        var queryRope = RotaryEmbedding.Apply(Deinterleave(q[TensorIndex.Ellipsis, TensorIndex.Slice(_nope)]), context.Cos, context.Sin);

        var compressed = _keyValueDown.Forward(x, context);                                  // [B, T, rank+rope]
        var latent = _keyValueNorm.Forward(compressed[TensorIndex.Ellipsis, TensorIndex.Slice(0, _rank)]);   // [B, T, rank]
        var keyRope = RotaryEmbedding.Apply(
            Deinterleave(compressed[TensorIndex.Ellipsis, TensorIndex.Slice(_rank)].view(batch, time, 1, _rope)), context.Cos, context.Sin);  // [B, T, 1, rope]

        Tensor mask;
        if (context.Cache is null)
        {
            mask = ones(time, time, ScalarType.Bool, device: x.device).tril().view(1, 1, time, time);
        }
        else
        {
            // The cache's two slots hold [B, 1, L, rank] latents and [B, 1, L, rope] rope keys.
            var (cachedLatent, cachedRope) = context.Cache.Update(_layer, latent.unsqueeze(1), keyRope.transpose(1, 2), context.Positions, context.KeyLength);
            latent = cachedLatent.squeeze(1);                                                // [B, L, rank]
            keyRope = cachedRope.transpose(1, 2);                                            // [B, L, 1, rope]
            mask = context.Mask!;                                                            // [B, 1, T, L]
        }
        long length = latent.shape[1];
        var keyValue = _keyValueUp.Forward(latent, context).view(batch, length, _heads, _nope + _valueDim);
        var keyNope = keyValue[TensorIndex.Ellipsis, TensorIndex.Slice(0, _nope)];
        var value = keyValue[TensorIndex.Ellipsis, TensorIndex.Slice(_nope)].transpose(1, 2);           // [B, H, L, v]
        var keys = cat([keyNope, keyRope.expand(batch, length, _heads, _rope)], -1).transpose(1, 2);   // [B, H, L, nope+rope]
        var queries = cat([queryNope, queryRope], -1).transpose(1, 2);                                  // [B, H, T, nope+rope]

        // Scores and softmax in fp32 (fp64 stays fp64); the value width differs from the key width.
        var scoreType = x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var scores = matmul(queries.to(scoreType), keys.to(scoreType).transpose(-1, -2)) * _softmaxScale;  // [B, H, T, L]
        scores = scores.masked_fill(mask.logical_not(), Scalars.NegativeInfinity);
        var output = matmul(scores.softmax(-1).to(x.dtype), value);                                      // [B, H, T, v]
        return _outputProjection.Forward(output.transpose(1, 2).reshape(batch, time, _heads * _valueDim), context);
    }

    // DeepSeek stores each rope pair side by side (x0, x1), (x2, x3), …; its reference code
    // regroups them to (x0, x2, …, x1, x3, …) before the rotate-half RoPE the other families use.
    static Tensor Deinterleave(Tensor x)
    {
        var shape = x.shape;
        long d = shape[^1];
        var pairs = shape[..^1].Concat(new[] { d / 2, 2L }).ToArray();
        return x.reshape(pairs).transpose(-1, -2).reshape(shape);
    }
}
