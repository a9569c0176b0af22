using Whetstone.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>A sparse feed-forward layer: DeepseekV3MoE (routed experts + shared experts) and
/// Qwen3MoeSparseMoeBlock (routed experts only), with the checkpoints' names: mlp.gate,
/// mlp.experts.{e}.{gate,up,down}_proj, mlp.shared_experts.*.
/// Experts run grouped: the (token, slot) pairs are sorted by expert, each expert multiplies its
/// contiguous run of tokens in one product per projection, and the outputs are scaled by the gate
/// weights and summed back into their tokens with one index_add. There is no loop over tokens;
/// the loop is over experts that received any token (plain torch ops, no decode kernel).
/// LoRA: each routed expert's projections are targets of their own (per-expert A and B, under
/// train_mlp). An expert's run of tokens mixes sequences, so its adapters are looked up per token
/// from its sequence row (slots are sorted by expert, then by token, so a row's tokens stay
/// together and each adapter's tokens form one slice where rows are grouped by adapter). A batch
/// whose rows all carry one shared-A adapter computes each A product once per layer
/// (<see cref="SharedAExpertProducts"/>).</summary>
internal sealed class MoeFeedForward : nn.Module
{
    [ComponentName(Name = "gate")] readonly MoeGate _gate;
    [ComponentName(Name = "experts")] readonly ModuleList<SwiGluMlp> _experts;
    [ComponentName(Name = "shared_experts")] readonly SwiGluMlp? _sharedExperts;
    readonly MoeShape _shape;
    readonly int _layer;

    public MoeFeedForward(WeightLoader weights, string name, ModelConfig config, int layer) : base(name)
    {
        _shape = config.Moe!;
        _layer = layer;
        _gate = new MoeGate(weights, $"{name}.gate", config);
        _experts = new ModuleList<SwiGluMlp>();
        for (int e = 0; e < _shape.RoutedExperts; e++)
            _experts.Add(new SwiGluMlp(weights, $"{name}.experts.{e}", config.HiddenSize, _shape.MoeIntermediateSize));
        if (_shape.SharedExperts > 0)
            _sharedExperts = new SwiGluMlp(weights, $"{name}.shared_experts", config.HiddenSize, (long)_shape.MoeIntermediateSize * _shape.SharedExperts);
        RegisterComponents();
    }

    public SwiGluMlp? SharedExperts => _sharedExperts;
    public IEnumerable<SwiGluMlp> Experts => _experts;

    public Tensor Forward(Tensor x, ForwardContext context)
    {
        long batch = x.shape[0], time = x.shape[1], hidden = x.shape[2];
        var flat = x.reshape(batch * time, hidden);                                        // [N, hidden]
        var (experts, weights) = _gate.Route(flat, context.Routing?.Replayed(_layer, batch, time));   // [N, k] each
        context.Routing?.Record(_layer, experts, batch, time);
        var routed = Grouped(flat, experts, weights, context.Adapters, time).view(batch, time, hidden);
        return _sharedExperts is null ? routed : routed + _sharedExperts.Forward(x, context);
    }

    /// <summary>Σ_slots weight · expert(x) per token. x [N, hidden], experts/weights [N, k].</summary>
    Tensor Grouped(Tensor x, Tensor experts, Tensor weights, Lora.AdapterBatch? adapters, long time)
    {
        long tokens = x.shape[0], k = experts.shape[1];
        var slotExperts = experts.flatten();                                               // [N·k]
        // Sort key expert·(N·k) + slot: slots grouped by expert, in token order within an expert.
        using var slots = (tokens * k).ToScalar();
        using var perToken = k.ToScalar();
        var order = (slotExperts * (tokens * k) + arange(slots, dtype: ScalarType.Int64, device: experts.device)).argsort();
        var tokenOfSlot = order.div(perToken, rounding_mode: RoundingMode.floor);                  // [N·k]
        var counts = bincount(slotExperts, minlength: _shape.RoutedExperts).data<long>().ToArray();
        var input = x.index_select(0, tokenOfSlot);                                        // [N·k, hidden], sorted by expert
        if (SharedAExpertProducts.SoleSharedAdapter(adapters, _experts) is { } sharedA)
            return WeightedSum(SharedAExpertProducts.Forward(x, input, tokenOfSlot, counts, _experts, sharedA), weights, order, tokenOfSlot, tokens, x);
        using var perRow = time.ToScalar();
        long[]? rowOfSlot = adapters is null ? null : tokenOfSlot.div(perRow, rounding_mode: RoundingMode.floor).data<long>().ToArray();
        var pieces = new List<Tensor>();
        long start = 0;
        for (int e = 0; e < counts.Length; e++)
        {
            if (counts[e] == 0) continue;
            var slice = input.narrow(0, start, counts[e]);                                 // [n_e, hidden]
            if (rowOfSlot is null) pieces.Add(_experts[e].Forward(slice, adapters: null));
            else
            {
                // One "row" per token of this expert, carrying its sequence's adapter.
                using var tokenAdapters = new Lora.AdapterBatch(rowOfSlot.AsSpan((int)start, (int)counts[e]).ToArray().Select(r => adapters!.AdapterOf((int)r)).ToList());
                pieces.Add(_experts[e].Forward(slice, tokenAdapters));
            }
            start += counts[e];
        }
        return WeightedSum(cat(pieces, 0), weights, order, tokenOfSlot, tokens, x);
    }

    /// <summary>Σ over each token's slots of gate weight · expert output. output [N·k, hidden] in
    /// sorted slot order. In the router's precision (fp32), as the reference code does, then back.</summary>
    static Tensor WeightedSum(Tensor output, Tensor weights, Tensor order, Tensor tokenOfSlot, long tokens, Tensor x)
    {
        var gate = weights.flatten().index_select(0, order).unsqueeze(-1);                 // [N·k, 1]
        var sum = zeros([tokens, x.shape[1]], gate.dtype, device: x.device).index_add(0, tokenOfSlot, output.to(gate.dtype) * gate, Scalars.One);
        return sum.to(x.dtype);
    }
}
