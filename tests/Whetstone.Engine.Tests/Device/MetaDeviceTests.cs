using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Device;

/// <summary>The placement half of the device proof (issue #21): the model loaded onto libtorch's
/// meta device, where tensors have shapes and no data, as it would be onto a GPU. Everything the
/// engine keeps for the model (weights, LoRA factors, value head, KV cache, AdamW moments and fp32
/// masters) must be on meta, and the modules must run there and leave every result on meta:
/// norms, rotary, projections with adapters (one, stacked, side by side), the MLP, the cache's
/// writes and joins, logits, backward into the adapters, and AdamW's update.
/// <para>Boundary: this libtorch (TorchSharp 0.107) has no meta kernel for index_select (the
/// embedding lookup and cache row selection), scaled_dot_product_attention (where.self), logsumexp
/// and isfinite (abs.out), logical_and and where (the sampler's top-k/top-p and greedy mix), and
/// nothing can be read from meta (.item, .data). Those ops are left out here, and
/// <see cref="TheOpsMetaCannotRunAreExactlyTheOnesLeftOut"/> fails when a libtorch gains them.
/// Every path through them runs with real data in <see cref="StrayDefaultDeviceTests"/>.</para></summary>
[Collection(nameof(DefaultDeviceCollection))]
public class MetaDeviceTests
{
    static readonly TorchSharp.torch.Device Meta = DefaultDevice.Meta;
    static readonly ModelConfig Config = TestModels.Config(ModelFamily.Qwen3, hidden: 32, layers: 2, heads: 4, kvHeads: 2, vocab: 61);
    static readonly string Checkpoint = TestModels.WriteCheckpoint(Config, seed: 3);

    static CausalLanguageModel MetaNetwork(ScalarType dtype = ScalarType.Float32) =>
        PretrainedModel.LoadNetwork(Checkpoint, Config, dtype, Meta);

    static void AllOnMeta(IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        var list = tensors.ToList();
        Assert.NotEmpty(list);
        var elsewhere = list.Where(t => t.Tensor.device_type != TorchSharp.DeviceType.META).Select(t => $"{t.Name} on {t.Tensor.device}").ToList();
        Assert.True(elsewhere.Count == 0, "not on the model's device: " + string.Join(", ", elsewhere));
    }

    static void OnMeta(Tensor t, params long[] shape)
    {
        Assert.Equal(TorchSharp.DeviceType.META, t.device_type);
        Assert.Equal(shape, t.shape);
    }

    [Fact]
    public void EveryTensorKeptForTheModelLivesOnItsDevice()
    {
        using var network = MetaNetwork(ScalarType.BFloat16);
        Assert.Equal(TorchSharp.DeviceType.META, network.Device.type);
        AllOnMeta(network.named_parameters().Select(p => (p.name, (Tensor)p.parameter)));

        using var cache = network.CreateCache(batchSize: 3, capacity: 16);
        AllOnMeta(Enumerable.Range(0, Config.NumHiddenLayers).SelectMany(i =>
            new[] { ($"keys.{i}", cache.LayerTensors(i).Keys), ($"values.{i}", cache.LayerTensors(i).Values) }));

        using var lora = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4, ValueHead = true });
        AllOnMeta(lora.Adapter!.NamedParameters().Select(p => (p.Name, (Tensor)p.Parameter)));
        AllOnMeta(lora.Optimizer.State().Select(s => (s.Key, s.Value)));

        // Full fine-tuning of a bf16 network: fp32 master weights and moments, on the device too.
        using var full = TrainingRun.CreateFull(network);
        AllOnMeta(full.Optimizer.State().Select(s => (s.Key, s.Value)));
        AllOnMeta(Enumerable.Range(0, full.Optimizer.Parameters.Count).Select(i => ($"master {i}", full.Optimizer.Weight(i))));
        Assert.Equal(ScalarType.Float32, full.Optimizer.Weight(0).dtype);
    }

    [Fact]
    public void LayersRunOnMetaWithAdaptersAndBackpropagateIntoThem()
    {
        using var network = MetaNetwork();
        using var a = LoraAdapter.Create(network.LoraTargets(), new LoraConfig { Rank = 4, Seed = 1 }, device: network.Device);
        using var b = LoraAdapter.Create(network.LoraTargets(), new LoraConfig { Rank = 4, Seed = 2 }, device: network.Device);
        using var scope = NewDisposeScope();
        long batch = 3, time = 5, hidden = Config.HiddenSize;
        var layer = network.named_modules().Select(m => m.module).OfType<DecoderLayer>().First();
        var positions = arange(time, dtype: ScalarType.Int64, device: Meta).unsqueeze(0).expand(batch, -1);
        var rotary = new RotaryEmbedding(Config);
        var (cos, sin) = rotary.Angles(positions, network.Dtype);
        OnMeta(cos, batch, time, 1, Config.HeadDim);
        var x = randn([batch, time, hidden], device: Meta);

        // One adapter over every row (with autograd), and two adapters over their rows.
        using var one = new AdapterBatch([a, a, a]);
        var context = new ForwardContext { Cos = cos, Sin = sin, Positions = positions, Adapters = one };
        var norm = network.named_modules().Select(m => m.module).OfType<RmsNorm>().First();
        var normed = norm.Forward(x);
        OnMeta(normed, batch, time, hidden);
        var q = layer.Attention.Projections.First().Forward(normed, context);
        OnMeta(q, batch, time, Config.NumAttentionHeads * Config.HeadDim);
        OnMeta(RotaryEmbedding.Apply(q.view(batch, time, Config.NumAttentionHeads, Config.HeadDim), cos, sin), batch, time, Config.NumAttentionHeads, Config.HeadDim);
        var mlp = layer.Mlp.Forward(normed, context);
        OnMeta(mlp, batch, time, hidden);
        var logits = network.Logits(mlp, one);
        OnMeta(logits, batch, time, Config.VocabSize);
        logits.sum().backward();
        AllOnMeta(a.NamedParameters().Where(p => p.Name.StartsWith("model.layers.0.mlp.", StringComparison.Ordinal) || p.Name.StartsWith("lm_head", StringComparison.Ordinal))
            .Select(p => (p.Name + ".grad", p.Parameter.grad ?? throw new InvalidOperationException($"{p.Name} got no gradient"))));

        using (no_grad())
        {
            using var contiguous = new AdapterBatch([a, null, b]);
            using var evenly = new AdapterBatch([a, a, b, b]);   // stacked factors in bf16/fp16, per-adapter products here
            using var sideBySide = new AdapterBatch([a, b, a]) { KeepStackedFactors = true };
            OnMeta(layer.Mlp.Forward(normed, new ForwardContext { Cos = cos, Sin = sin, Positions = positions, Adapters = contiguous }), batch, time, hidden);
            OnMeta(layer.Mlp.Forward(cat([normed, normed[TensorIndex.Slice(0, 1)]], 0), new ForwardContext { Cos = cos, Sin = sin, Positions = positions, Adapters = evenly }), batch + 1, time, hidden);
            OnMeta(network.Logits(normed[TensorIndex.Colon, TensorIndex.Slice(0, 1)], sideBySide), batch, 1, Config.VocabSize);   // a decode-sized step
        }
    }

    [Fact]
    public void AdamWUpdatesOnMeta()
    {
        using var network = MetaNetwork(ScalarType.BFloat16);
        using var run = TrainingRun.CreateFull(network);
        using (var scope = NewDisposeScope())
        {
            var hidden = randn([2, 3, Config.HiddenSize], dtype: ScalarType.BFloat16, device: Meta);
            network.Logits(hidden).sum().backward();   // a gradient for the unembedding (tied: the embedding)
        }
        var withGradient = run.Optimizer.Parameters.Where(p => p.Parameter.grad is not null).ToList();
        Assert.NotEmpty(withGradient);
        // The gradient norm is read back with .item(), which meta cannot do: the step is given one.
        run.Optimizer.Apply(new AdamParams { LearningRate = 1e-3, WeightDecay = 0.1, GradClipNorm = 1 }, gradientNorm: 2.0);
        Assert.Equal(1, run.Step);
        AllOnMeta(run.Optimizer.State().Select(s => (s.Key, s.Value)));
        AllOnMeta(run.Optimizer.Parameters.Select(p => (p.Name, (Tensor)p.Parameter)));
        run.ZeroGradients();
    }

    [Fact]
    public void TheKvCacheWritesAndJoinsOnMeta()
    {
        using var network = MetaNetwork();
        using var cache = network.CreateCache(batchSize: 2, capacity: 8);
        using var wider = network.CreateCache(batchSize: 1, capacity: 12);
        using var scope = NewDisposeScope();
        var k = randn([2, Config.NumKeyValueHeads, 3, Config.HeadDim], device: Meta);
        var positions = arange(3, dtype: ScalarType.Int64, device: Meta).unsqueeze(0).expand(2, -1);
        var (keys, values) = cache.Update(0, k, k, positions, length: 3);
        OnMeta(keys, 2, Config.NumKeyValueHeads, 3, Config.HeadDim);
        OnMeta(values, 2, Config.NumKeyValueHeads, 3, Config.HeadDim);
        using var joined = cache.Concat(wider);
        Assert.Equal(12, joined.Capacity);
        OnMeta(joined.LayerTensors(1).Keys, 3, Config.NumKeyValueHeads, 12, Config.HeadDim);
    }

    [Fact]
    public void TheOpsMetaCannotRunAreExactlyTheOnesLeftOut()
    {
        // If one of these starts to work, a newer libtorch runs it on meta: move it into the tests above.
        using var scope = NewDisposeScope();
        var x = zeros([2, 5], device: Meta);
        var q = zeros([1, 2, 3, 4], device: Meta);
        var rows = zeros([2], ScalarType.Int64, device: Meta);
        var flags = zeros([2, 5], ScalarType.Bool, device: Meta);
        var missing = new Dictionary<string, Action>
        {
            ["index_select (embedding lookup, KvCache.SelectRows)"] = () => x.index_select(0, rows),
            ["scaled_dot_product_attention"] = () => nn.functional.scaled_dot_product_attention(q, q, q, is_casual: true),
            ["logsumexp (the learner's logprobs)"] = () => x.logsumexp(-1),
            ["isfinite"] = () => x.isfinite(),
            ["logical_and (top-k/top-p)"] = () => flags.logical_and(flags),
            ["where (greedy rows among sampled ones)"] = () => where(flags, x, x),
            [".item (reads)"] = () => x.sum().item<float>(),
        };
        foreach (var (op, run) in missing)
        {
            var e = Record.Exception(run);
            Assert.True(e is not null, $"{op} now runs on meta: cover it in MetaDeviceTests");
            Assert.True(e.Message.Contains("Meta kernel", StringComparison.Ordinal) || e.Message.Contains("meta tensor", StringComparison.Ordinal), $"{op}: {e.Message}");
        }
        // And a whole forward stops at the first of them, the embedding lookup, not at a device mismatch.
        using var network = MetaNetwork();
        var forward = Record.Exception(() => network.Forward(zeros([1, 4], ScalarType.Int64, device: Meta)));
        Assert.NotNull(forward);
        Assert.Contains("aten::index_select", forward.Message);
    }
}
