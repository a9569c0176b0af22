using TorchSharp;
using TorchSharp.Utils;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models.Vision;
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

    /// <summary>The <see cref="DecoderStack"/>, or for Qwen3-VL a <see cref="Qwen3VlModel"/> holding it
    /// (model.language_model.*) beside the tower (model.visual.*).</summary>
    [ComponentName(Name = "model")] readonly nn.Module _model;
    [ComponentName(Name = "lm_head")] readonly LinearProjection? _lmHead;
    [ComponentName(Name = VisionTower.Prefix)] readonly VisionTower? _visual;
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
        _model = config.Vision?.Architecture == VisionArchitecture.Qwen3Vl ? new Qwen3VlModel(weights, "model", config) : new DecoderStack(weights, "model", config);
        if (!config.TieWordEmbeddings)
            _lmHead = new LinearProjection(weights, UnembeddingName, config.HiddenSize, config.VocabSize, false);
        if (config.Vision is { Architecture: VisionArchitecture.Qwen2_5Vl }) _visual = new VisionTower(weights, config.Vision);
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
            using var length = tokens.shape[1].ToScalar();
            positions = arange(length, dtype: ScalarType.Int64, device: Device).unsqueeze(0).expand(tokens.shape[0], -1);
        }
        else CheckPosition(positions.max().item<long>());
        var (cos, sin) = _rotary.Angles(positions, Dtype);
        return Body.Forward(tokens, new ForwardContext { Cos = cos, Sin = sin, Positions = positions, Adapters = adapters, Routing = routing });
    }

    /// <summary>Whole sequences whose rows may hold images (the learner's path for a
    /// vision-language model): each row's images go through the tower into the positions of their
    /// pad tokens, and the rows get M-RoPE positions. images: one list per row (empty = text).</summary>
    internal DecoderStack Body => _model as DecoderStack ?? ((Qwen3VlModel)_model).LanguageModel;

    /// <summary>The vision tower of a vision-language model; null for text-only models.</summary>
    internal IVisionEncoder? VisionEncoder => (IVisionEncoder?)_visual ?? (_model as Qwen3VlModel)?.Visual;

    /// <summary>Qwen2.5-VL's tower (top-level visual.*); null for Qwen3-VL and text-only models.</summary>
    internal VisionTower? Visual => _visual;

    public Tensor ForwardWithImages(Tensor tokens, IReadOnlyList<IReadOnlyList<PlacedImage>> images, AdapterBatch? adapters = null)
    {
        if (images.All(i => i.Count == 0)) return Forward(tokens, null, adapters);
        long length = tokens.shape[1];
        using var slotCount = length.ToScalar();
        var slots = arange(slotCount, dtype: ScalarType.Int64, device: Device).unsqueeze(0).expand(tokens.shape[0], -1);
        var rope = VisionLanguageInputs.RopePositions(images, length, 0, Config.Vision!, Device);           // [3, B, T]
        CheckPosition(rope.max().item<long>());
        var (cos, sin) = _rotary.Angles(rope, Dtype, Config.MropeSection!, Config.MropeInterleaved);
        var (embeddings, deepstack) = EmbedWithDeepstack(tokens, images, adapters);
        return Body.ForwardEmbeddings(embeddings, new ForwardContext { Cos = cos, Sin = sin, Positions = slots, Adapters = adapters, Deepstack = deepstack });
    }

    /// <summary>Token embeddings with each image's tower output written over its pad positions.</summary>
    internal Tensor Embed(Tensor tokens, IReadOnlyList<IReadOnlyList<PlacedImage>> images, AdapterBatch? adapters) =>
        EmbedWithDeepstack(tokens, images, adapters).Embeddings;

    /// <summary>The embeddings, and per deepstack level a [B, T, hidden] addition that holds that
    /// level's features at the image positions and zeros elsewhere (none without Qwen3-VL images).</summary>
    internal (Tensor Embeddings, IReadOnlyList<Tensor>? Deepstack) EmbedWithDeepstack(Tensor tokens, IReadOnlyList<IReadOnlyList<PlacedImage>> images, AdapterBatch? adapters)
    {
        var x = Body.Embed(tokens);                                                              // [B, T, hidden]
        if (images.All(i => i.Count == 0)) return (x, null);
        var visual = VisionEncoder ?? throw new ArgumentException("images were given, but this model has no vision tower");
        int levels = Config.Vision!.DeepstackVisualIndexes.Count;
        var additions = Enumerable.Range(0, levels).Select(_ => new Tensor[images.Count]).ToArray();
        var rows = new Tensor[images.Count];
        for (int b = 0; b < images.Count; b++)
        {
            rows[b] = x[b];
            foreach (var level in additions) level[b] = zeros_like(x[b]);
            if (images[b].Count == 0) continue;
            var adapter = adapters?.AdapterOf(b);
            using var rowAdapters = adapter is null ? null : new AdapterBatch([adapter]);
            var features = visual.Encode(images[b].Select(i => i.Patches).ToArray(), rowAdapters, Dtype);   // [n, hidden]
            var index = VisionLanguageInputs.ImagePositions(images[b], Config.Vision!.SpatialMergeSize);
            if (index.Max() >= tokens.shape[1]) throw new ArgumentException($"row {b}: an image reaches position {index.Max()}, past the sequence's end");
            var at = tensor(index, device: Device);
            rows[b] = x[b].index_copy(0, at, features.Embeddings.to(x.dtype));
            for (int k = 0; k < levels; k++) additions[k][b] = additions[k][b].index_copy(0, at, features.Deepstack[k].to(x.dtype));
        }
        return (stack(rows), levels == 0 ? null : additions.Select(a => stack(a)).ToArray());
    }

    /// <summary>Hidden states for new tokens at the given positions, reading and extending the
    /// cache (the sampler's path). tokens, positions: [B, T] → [B, T, hidden].
    /// <paramref name="maxPosition"/>: the largest entry of positions, where the caller knows it
    /// (the sampler builds them from its own arrays), which saves reading it back from the device.</summary>
    public Tensor Forward(Tensor tokens, Tensor positions, KvCache cache, AdapterBatch? adapters = null, long? maxPosition = null, ExpertRouting? routing = null) =>
        Forward(tokens, positions, cache, adapters, images: null, ropePositions: null, maxPosition: maxPosition, routing: routing);

    /// <summary>The cached path with images: <paramref name="ropePositions"/> ([B, T], or [3, B, T]
    /// M-RoPE) turn the rotary angles while <paramref name="positions"/> stay the cache slots;
    /// <paramref name="images"/> (one list per row, or null) are spliced into the embeddings.</summary>
    public Tensor Forward(Tensor tokens, Tensor positions, KvCache cache, AdapterBatch? adapters,
        IReadOnlyList<IReadOnlyList<PlacedImage>>? images, Tensor? ropePositions, long? maxPosition = null, ExpertRouting? routing = null)
    {
        long lastPosition = maxPosition ?? positions.max().item<long>();
        CheckPosition(lastPosition);
        if (ropePositions is not null) CheckPosition(ropePositions.max().item<long>());
        long keyLength = lastPosition + 1;
        if (keyLength > cache.Capacity)
            throw new ArgumentException($"position {keyLength - 1} does not fit the KV cache's capacity of {cache.Capacity}");
        var (cos, sin) = ropePositions is null ? _rotary.Angles(positions, Dtype)
            : Config.MropeSection is { } section ? _rotary.Angles(ropePositions, Dtype, section, Config.MropeInterleaved) : _rotary.Angles(ropePositions, Dtype);
        using var keyCount = keyLength.ToScalar();
        var keyPositions = arange(keyCount, dtype: ScalarType.Int64, device: Device);
        var mask = (keyPositions.view(1, 1, 1, -1) <= positions.unsqueeze(1).unsqueeze(-1));   // [B, 1, T, L]
        var (embeddings, deepstack) = images is null ? (Body.Embed(tokens), null) : EmbedWithDeepstack(tokens, images, adapters);
        return Body.ForwardEmbeddings(embeddings, new ForwardContext
        {
            Cos = cos, Sin = sin, Positions = positions, Cache = cache, Mask = mask, KeyLength = keyLength, Adapters = adapters, Routing = routing, Deepstack = deepstack,
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
        foreach (var layer in Body.Layers)
        {
            targets.AddRange(layer.AttentionProjections.Select(p => new LoraTarget(p.Path, p.InFeatures, p.OutFeatures, LoraTargetGroup.Attention)));
            targets.AddRange(layer.MlpProjections.Select(p => new LoraTarget(p.Path, p.InFeatures, p.OutFeatures, LoraTargetGroup.Mlp)));
        }
        targets.Add(new LoraTarget(UnembeddingName, Config.HiddenSize, Config.VocabSize, LoraTargetGroup.Unembed));
        if (VisionEncoder is { } visual)
        {
            // The projector counts as MLP (train_mlp); the tower's own blocks only on request.
            targets.AddRange(visual.ProjectorProjections.Select(p => new LoraTarget(p.Path, p.InFeatures, p.OutFeatures, LoraTargetGroup.Mlp)));
            targets.AddRange(visual.TowerProjections.Select(p => new LoraTarget(p.Path, p.InFeatures, p.OutFeatures, LoraTargetGroup.VisionTower)));
        }
        return targets;
    }

    /// <summary>The frozen weight of each LoRA target (the embedding when lm_head is tied).</summary>
    internal Tensor BaseWeight(string moduleName) => moduleName == UnembeddingName
        ? UnembeddingWeight
        : named_parameters().First(p => p.name == moduleName + ".weight").parameter;

    Tensor UnembeddingWeight => _lmHead?.Weight ?? Body.EmbeddingWeight;

    void CheckPosition(long maxPosition)
    {
        if (maxPosition >= Config.MaxPositionEmbeddings)
            throw new ArgumentException($"sequence position {maxPosition} exceeds the model's max_position_embeddings ({Config.MaxPositionEmbeddings})");
    }
}
