using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Training;

/// <summary>The routing a learner chunk replays: each row's sampler routing laid into per-layer
/// [rows, length, k] tensors. Slots no sampler routed (a row's padding, a row that came without
/// routing) hold −1, which the router fills with its own choice, so rows with and without
/// routing share a pass.</summary>
internal static class ChunkRouting
{
    /// <summary>Null when no row carries routing (the router chooses everywhere).</summary>
    public static ExpertRouting? For(IReadOnlyList<Datum> rows, int length, ModelConfig config, Device device)
    {
        if (rows.All(r => r.Routing is null)) return null;
        var layers = RoutedExperts.SparseLayers(config);
        int k = config.Moe!.ExpertsPerToken, layerCount = layers.Length;
        var perLayer = new long[layerCount][];
        for (int l = 0; l < layerCount; l++) perLayer[l] = Enumerable.Repeat(-1L, rows.Count * length * k).ToArray();
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r].Routing is not { } routing) continue;
            var experts = routing.Experts;
            for (int t = 0; t < rows[r].Length; t++)
                for (int l = 0; l < layerCount; l++)
                    for (int s = 0; s < k; s++)
                        perLayer[l][((long)r * length + t) * k + s] = experts[(t * layerCount + l) * k + s];
        }
        using var scope = NewDisposeScope();
        return ExpertRouting.Replay(layers.Select((layer, l) => (layer, l))
            .ToDictionary(x => x.layer, x => tensor(perLayer[x.l], [rows.Count, length, k], device: device)));
    }
}
