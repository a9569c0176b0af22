using TorchSharp.Utils;
using TorchSharp;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>The decoder-only network shared by the Llama, Qwen2 and Qwen3 families. They differ
/// only in switches read from config.json (q/k/v bias, q/k norm, head_dim, RoPE scaling, tied
/// embeddings), so one readable implementation serves all three rather than three near-copies.
/// Parameter names are Hugging Face's, so a state dict maps to checkpoint tensors one to one.</summary>
public sealed class CausalLanguageModel : nn.Module
{
    [ComponentName(Name = "model")] readonly DecoderStack _body;
    [ComponentName(Name = "lm_head")] readonly LinearProjection? _lmHead;
    readonly RotaryEmbedding _rotary;

    public ModelConfig Config { get; }
    public ScalarType Dtype { get; }

    internal CausalLanguageModel(WeightLoader weights, ModelConfig config) : base("causal_lm")
    {
        Config = config;
        Dtype = weights.Dtype;
        _body = new DecoderStack(weights, "model", config);
        if (!config.TieWordEmbeddings)
            _lmHead = new LinearProjection(weights, "lm_head", config.HiddenSize, config.VocabSize, false);
        _rotary = new RotaryEmbedding(config);
        RegisterComponents();
    }

    /// <summary>Final hidden states for whole sequences, no cache (the learner's path).
    /// tokens, positions: [B, T] int64 → [B, T, hidden].</summary>
    public Tensor Forward(Tensor tokens, Tensor? positions = null)
    {
        positions ??= arange(tokens.shape[1], dtype: ScalarType.Int64).unsqueeze(0).expand(tokens.shape[0], -1);
        CheckPositions(positions);
        var (cos, sin) = _rotary.Angles(positions, Dtype);
        return _body.Forward(tokens, new ForwardContext { Cos = cos, Sin = sin, Positions = positions });
    }

    /// <summary>Hidden states for new tokens at the given positions, reading and extending the
    /// cache (the sampler's path). tokens, positions: [B, T] → [B, T, hidden].</summary>
    public Tensor Forward(Tensor tokens, Tensor positions, KvCache cache)
    {
        CheckPositions(positions);
        long keyLength = positions.max().item<long>() + 1;
        if (keyLength > cache.Capacity)
            throw new ArgumentException($"position {keyLength - 1} does not fit the KV cache's capacity of {cache.Capacity}");
        var (cos, sin) = _rotary.Angles(positions, Dtype);
        var keyPositions = arange(keyLength, dtype: ScalarType.Int64);
        var mask = (keyPositions.view(1, 1, 1, -1) <= positions.unsqueeze(1).unsqueeze(-1));   // [B, 1, T, L]
        return _body.Forward(tokens, new ForwardContext
        {
            Cos = cos, Sin = sin, Positions = positions, Cache = cache, Mask = mask, KeyLength = keyLength,
        });
    }

    /// <summary>[.., hidden] → fp32 logits [.., vocab].</summary>
    public Tensor Logits(Tensor hidden)
    {
        var weight = _lmHead?.Weight ?? _body.EmbeddingWeight;
        return nn.functional.linear(hidden, weight).to(ScalarType.Float32);
    }

    public KvCache CreateCache(int batchSize, int capacity) => new(Config, batchSize, capacity, Dtype);

    void CheckPositions(Tensor positions)
    {
        long maxPosition = positions.max().item<long>();
        if (maxPosition >= Config.MaxPositionEmbeddings)
            throw new ArgumentException($"sequence position {maxPosition} exceeds the model's max_position_embeddings ({Config.MaxPositionEmbeddings})");
    }
}
