using TorchSharp;
using TorchSharp.Utils;
using Whetstone.Engine.Lora;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>The decoder-only network shared by the Llama, Qwen2 and Qwen3 families. They differ
/// only in switches read from config.json (q/k/v bias, q/k norm, head_dim, RoPE scaling, tied
/// embeddings), so one readable implementation serves all three rather than three near-copies.
/// Parameter names are Hugging Face's, so a state dict maps to checkpoint tensors one to one.
/// Every forward takes an optional <see cref="AdapterBatch"/>: LoRA adapters per batch row.</summary>
public sealed class CausalLanguageModel : nn.Module
{
    public const string UnembeddingName = "lm_head";

    [ComponentName(Name = "model")] readonly DecoderStack _body;
    [ComponentName(Name = "lm_head")] readonly LinearProjection? _lmHead;
    readonly RotaryEmbedding _rotary;

    public ModelConfig Config { get; }
    public ScalarType Dtype { get; }
    /// <summary>Where every weight lives; every tensor the engine makes for this network goes here too.</summary>
    public Device Device { get; }

    internal CausalLanguageModel(WeightLoader weights, ModelConfig config) : base("causal_lm")
    {
        Config = config;
        Dtype = weights.Dtype;
        Device = weights.Device;
        _body = new DecoderStack(weights, "model", config);
        if (!config.TieWordEmbeddings)
            _lmHead = new LinearProjection(weights, UnembeddingName, config.HiddenSize, config.VocabSize, false);
        _rotary = new RotaryEmbedding(config);
        RegisterComponents();
    }

    /// <summary>Final hidden states for whole sequences, no cache (the learner's path).
    /// tokens, positions: [B, T] int64 → [B, T, hidden].</summary>
    public Tensor Forward(Tensor tokens, Tensor? positions = null, AdapterBatch? adapters = null, ExpertRouting? routing = null)
    {
        if (positions is null)
        {
            CheckPosition(tokens.shape[1] - 1);
            positions = arange(tokens.shape[1], dtype: ScalarType.Int64, device: Device).unsqueeze(0).expand(tokens.shape[0], -1);
        }
        else CheckPosition(positions.max().item<long>());
        var (cos, sin) = _rotary.Angles(positions, Dtype);
        return _body.Forward(tokens, new ForwardContext { Cos = cos, Sin = sin, Positions = positions, Adapters = adapters, Routing = routing });
    }

    /// <summary>Hidden states for new tokens at the given positions, reading and extending the
    /// cache (the sampler's path). tokens, positions: [B, T] → [B, T, hidden].
    /// <paramref name="maxPosition"/>: the largest entry of positions, where the caller knows it
    /// (the sampler builds them from its own arrays), which saves reading it back from the device.</summary>
    public Tensor Forward(Tensor tokens, Tensor positions, KvCache cache, AdapterBatch? adapters = null, long? maxPosition = null, ExpertRouting? routing = null)
    {
        long lastPosition = maxPosition ?? positions.max().item<long>();
        CheckPosition(lastPosition);
        long keyLength = lastPosition + 1;
        if (keyLength > cache.Capacity)
            throw new ArgumentException($"position {keyLength - 1} does not fit the KV cache's capacity of {cache.Capacity}");
        var (cos, sin) = _rotary.Angles(positions, Dtype);
        var keyPositions = arange(keyLength, dtype: ScalarType.Int64, device: Device);
        var mask = (keyPositions.view(1, 1, 1, -1) <= positions.unsqueeze(1).unsqueeze(-1));   // [B, 1, T, L]
        return _body.Forward(tokens, new ForwardContext
        {
            Cos = cos, Sin = sin, Positions = positions, Cache = cache, Mask = mask, KeyLength = keyLength, Adapters = adapters, Routing = routing,
        });
    }

    /// <summary>[B, .., hidden] → logits [B, .., vocab] with the adapters' unembedding updates,
    /// in fp32 (fp64 for an fp64 network, as gradient checks need): softmax over a large
    /// vocabulary in bf16 would cost the logprobs their precision.</summary>
    public Tensor Logits(Tensor hidden, AdapterBatch? adapters = null)
    {
        var weight = UnembeddingWeight;
        var logits = DecodeMatmul.Applies(hidden, weight) ? DecodeMatmul.Linear(hidden, weight, null) : nn.functional.linear(hidden, weight);
        if (adapters is not null) logits = adapters.Apply(UnembeddingName, hidden, logits);
        return logits.dtype == ScalarType.Float64 ? logits : logits.to(ScalarType.Float32);
    }

    public KvCache CreateCache(int batchSize, int capacity) => new(Config, batchSize, capacity, Dtype, Device);

    /// <summary>The projections a LoRA adapter can attach to, in model order.</summary>
    public IReadOnlyList<LoraTarget> LoraTargets()
    {
        var targets = new List<LoraTarget>();
        foreach (var layer in _body.Layers)
        {
            targets.AddRange(layer.AttentionProjections.Select(p => new LoraTarget(p.Path, p.InFeatures, p.OutFeatures, LoraTargetGroup.Attention)));
            targets.AddRange(layer.MlpProjections.Select(p => new LoraTarget(p.Path, p.InFeatures, p.OutFeatures, LoraTargetGroup.Mlp)));
        }
        targets.Add(new LoraTarget(UnembeddingName, Config.HiddenSize, Config.VocabSize, LoraTargetGroup.Unembed));
        return targets;
    }

    /// <summary>The frozen weight of each LoRA target (the embedding when lm_head is tied).</summary>
    internal Tensor BaseWeight(string moduleName) => moduleName == UnembeddingName
        ? UnembeddingWeight
        : named_parameters().First(p => p.name == moduleName + ".weight").parameter;

    Tensor UnembeddingWeight => _lmHead?.Weight ?? _body.EmbeddingWeight;

    void CheckPosition(long maxPosition)
    {
        if (maxPosition >= Config.MaxPositionEmbeddings)
            throw new ArgumentException($"sequence position {maxPosition} exceeds the model's max_position_embeddings ({Config.MaxPositionEmbeddings})");
    }
}
