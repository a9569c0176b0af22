using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Each MoE layer's chosen experts for the tokens of a batch: recorded while sampling,
/// replayed when training on those samples ("routing replay"), so the learner runs the experts
/// the sampler ran — gate weights are still recomputed from the current router, so the router
/// keeps its gradient. Shapes per layer: [B, T, k] int64, tokens in sequence order; a recorder
/// appends along T step after step, so a prefill and its decode steps give one tensor.</summary>
public sealed class ExpertRouting : IDisposable
{
    readonly Dictionary<int, Tensor> _experts = [];
    readonly bool _replaying;

    ExpertRouting(bool replaying) => _replaying = replaying;

    public static ExpertRouting Recorder() => new(false);

    /// <summary>Replays the given choices: layer → [B, T, k] experts, T the whole forward's length.</summary>
    public static ExpertRouting Replay(IReadOnlyDictionary<int, Tensor> experts)
    {
        var routing = new ExpertRouting(true);
        foreach (var (layer, chosen) in experts) routing._experts[layer] = chosen.detach().clone().DetachFromDisposeScope();
        return routing;
    }

    /// <summary>What was recorded (or is replayed), layer → [B, T, k].</summary>
    public IReadOnlyDictionary<int, Tensor> Experts => _experts;

    internal Tensor? Replayed(int layer, long batch, long time)
    {
        if (!_replaying) return null;
        if (!_experts.TryGetValue(layer, out var chosen))
            throw new ArgumentException($"routing replay has no experts for layer {layer}");
        if (chosen.shape[0] != batch || chosen.shape[1] != time)
            throw new ArgumentException($"routing replay for layer {layer} is [{string.Join(", ", chosen.shape)}], the forward is [{batch}, {time}, k]");
        return chosen.reshape(batch * time, -1);
    }

    internal void Record(int layer, Tensor experts, long batch, long time)
    {
        if (_replaying) return;
        var chosen = experts.detach().view(batch, time, -1);
        using var scope = NewDisposeScope();
        var next = _experts.TryGetValue(layer, out var earlier) ? cat([earlier, chosen], 1) : chosen.clone();
        earlier?.Dispose();
        _experts[layer] = next.DetachFromDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in _experts.Values) t.Dispose();
        _experts.Clear();
    }
}
