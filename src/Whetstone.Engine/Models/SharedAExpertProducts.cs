using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>The routed experts of one sparse layer under one shared-A adapter
/// (<see cref="Lora.LoraConfig.SharedExpertA"/>), with each A product computed once per layer
/// instead of once per expert:
/// <list type="bullet">
/// <item>gate and up: every expert reads the same token, so x·Aᵀ is one [N, r] product over the
/// layer's tokens, gathered to the (token, slot) pairs and cut into each expert's run;</item>
/// <item>down: its input differs per expert, but with one A it is still one [N·k, inter]·Aᵀ
/// product over all experts' intermediates laid end to end.</item>
/// </list>
/// Each expert then multiplies its run of the rank-r intermediate by its own B. The result equals
/// the per-expert computation (the tests compare both); the saving is E−1 of the E A products
/// per projection, and their dispatch.</summary>
internal static class SharedAExpertProducts
{
    /// <summary>The adapter when every row of the batch has this same shared-A adapter on the
    /// layer's routed experts (the usual training batch); null sends the layer down the
    /// per-expert path (mixed batches, base rows, per-expert adapters, experts not targeted).</summary>
    public static Lora.LoraAdapter? SoleSharedAdapter(Lora.AdapterBatch? adapters, IList<SwiGluMlp> experts)
    {
        if (adapters is null || adapters.BatchSize == 0) return null;
        var adapter = adapters.AdapterOf(0);
        if (adapter is null || !adapter.Config.SharedExpertA) return null;
        for (int row = 1; row < adapters.BatchSize; row++)
            if (!ReferenceEquals(adapters.AdapterOf(row), adapter)) return null;
        foreach (var projection in experts[0].Projections)
            if (!adapter.TryGet(projection.Path, out _)) return null;
        return adapter;
    }

    /// <summary>Every slot's expert output, in slot order sorted by expert.</summary>
    /// <param name="tokens">The layer's tokens [N, hidden].</param>
    /// <param name="input">The tokens gathered to the sorted slots [N·k, hidden].</param>
    /// <param name="tokenOfSlot">Which token each sorted slot reads [N·k].</param>
    /// <param name="counts">Slots per expert, in expert order.</param>
    public static Tensor Forward(Tensor tokens, Tensor input, Tensor tokenOfSlot, long[] counts, IList<SwiGluMlp> experts, Lora.LoraAdapter adapter)
    {
        double scale = adapter.Scale;
        var (gateA, upA, downA) = SharedFactors(adapter, experts[0]);
        var gateLow = (nn.functional.linear(tokens, Cast(gateA, tokens)) * scale).index_select(0, tokenOfSlot);   // [N·k, r]
        var upLow = (nn.functional.linear(tokens, Cast(upA, tokens)) * scale).index_select(0, tokenOfSlot);

        var hidden = new List<Tensor>();
        var active = new List<(int Expert, long Start, long Count)>();
        long start = 0;
        for (int e = 0; e < counts.Length; e++)
        {
            if (counts[e] == 0) continue;
            var (gate, up, _) = Projections(experts[e]);
            var slice = input.narrow(0, start, counts[e]);
            var g = gate.Forward(slice, adapters: null) + nn.functional.linear(gateLow.narrow(0, start, counts[e]), Cast(B(adapter, gate), slice));
            var u = up.Forward(slice, adapters: null) + nn.functional.linear(upLow.narrow(0, start, counts[e]), Cast(B(adapter, up), slice));
            hidden.Add(nn.functional.silu(g) * u);
            active.Add((e, start, counts[e]));
            start += counts[e];
        }
        var intermediates = cat(hidden, 0);                                                               // [N·k, inter]
        var downLow = nn.functional.linear(intermediates, Cast(downA, intermediates)) * scale;             // [N·k, r]
        var outputs = new List<Tensor>(active.Count);
        for (int i = 0; i < active.Count; i++)
        {
            var (e, from, count) = active[i];
            var (_, _, down) = Projections(experts[e]);
            outputs.Add(down.Forward(hidden[i], adapters: null) + nn.functional.linear(downLow.narrow(0, from, count), Cast(B(adapter, down), hidden[i])));
        }
        return cat(outputs, 0);
    }

    static (Tensor Gate, Tensor Up, Tensor Down) SharedFactors(Lora.LoraAdapter adapter, SwiGluMlp anyExpert)
    {
        var (gate, up, down) = Projections(anyExpert);
        return (A(adapter, gate), A(adapter, up), A(adapter, down));
    }

    static (LinearProjection Gate, LinearProjection Up, LinearProjection Down) Projections(SwiGluMlp expert)
    {
        var p = expert.Projections.ToArray();
        return (p[0], p[1], p[2]);
    }

    static Tensor A(Lora.LoraAdapter adapter, LinearProjection projection) { adapter.TryGet(projection.Path, out var w); return w.A; }
    static Tensor B(Lora.LoraAdapter adapter, LinearProjection projection) { adapter.TryGet(projection.Path, out var w); return w.B; }

    // As LoraWeights.Delta: the factors keep their dtype (usually fp32) and are cast to the activations'.
    static Tensor Cast(Tensor factor, Tensor like) => factor.dtype == like.dtype ? factor : factor.to(like.dtype);
}
