using Whetstone.Engine.Models;
using Whetstone.Engine.Runtime;
using static TorchSharp.torch;

namespace Whetstone.Engine.Sampling;

/// <summary>One sample's experts so far, on the host in [token, layer, slot] order: the
/// prompt's from the prefill, then one token's per decode step (each step runs the token sampled
/// before it, so a finished sample has its prompt and all but its last token).</summary>
internal sealed class RoutingTrace(IReadOnlyList<int> layers, int expertsPerToken)
{
    readonly List<int> _experts = [];

    public void Append(ReadOnlySpan<long> experts)
    {
        foreach (long e in experts) _experts.Add((int)e);
    }

    public RoutedExperts Result() => new(layers, expertsPerToken, _experts.ToArray());

    /// <summary>A recorder's experts as one host array [B, T, layers, k] (one copy off the device).</summary>
    public static long[] Host(ExpertRouting recorder, IReadOnlyList<int> layers)
    {
        using var scope = NewDisposeScope();
        return HostCopy.ToArray<long>(stack(layers.Select(l => recorder.Experts[l]).ToArray(), 2).contiguous());
    }
}
