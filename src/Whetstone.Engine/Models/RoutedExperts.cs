namespace Whetstone.Engine.Models;

/// <summary>One sequence's routing as host integers: for every token, the k experts each sparse
/// layer chose, flat in [token, layer, slot] order (layers as listed in <see cref="Layers"/>,
/// ascending). The sampler returns it; forward_backward takes it back so the learner runs the
/// sampler's experts (routing replay). It crosses the service as plain ints: the service holds
/// no tensors.</summary>
public sealed record RoutedExperts(IReadOnlyList<int> Layers, int ExpertsPerToken, IReadOnlyList<int> Experts)
{
    /// <summary>Tokens covered: experts ÷ (layers · k).</summary>
    public int Tokens => Layers.Count == 0 || ExpertsPerToken == 0 ? 0 : Experts.Count / (Layers.Count * ExpertsPerToken);

    /// <summary>The sparse layers of a model, ascending (empty for a dense model).</summary>
    public static int[] SparseLayers(ModelConfig config) =>
        config.Moe is null ? [] : Enumerable.Range(0, config.NumHiddenLayers).Where(config.Moe.IsSparseLayer).ToArray();

    /// <summary>What makes this routing unusable for a forward of <paramref name="length"/>
    /// tokens on this model (a sentence naming the expected value), or null when it fits.</summary>
    public string? Problem(ModelConfig config, int length)
    {
        if (config.Moe is not { } moe) return "is given but the model has no mixture-of-experts layers";
        var sparse = SparseLayers(config);
        if (!Layers.SequenceEqual(sparse))
            return $"names layers [{string.Join(", ", Layers)}]; the model's sparse layers are [{string.Join(", ", sparse)}]";
        if (ExpertsPerToken != moe.ExpertsPerToken)
            return $"has experts_per_token = {ExpertsPerToken}; the model routes each token to {moe.ExpertsPerToken}";
        if (Experts.Count != (long)length * Layers.Count * ExpertsPerToken)
            return $"has {Experts.Count} experts; a {length}-token input needs {length} × {Layers.Count} layers × {ExpertsPerToken} = {(long)length * Layers.Count * ExpertsPerToken}";
        for (int i = 0; i < Experts.Count; i++)
            if (Experts[i] < 0 || Experts[i] >= moe.RoutedExperts)
                return $"experts[{i}] = {Experts[i]} is outside [0, {moe.RoutedExperts})";
        return null;
    }

    /// <summary>The first <paramref name="tokens"/> tokens' routing.</summary>
    public RoutedExperts Prefix(int tokens)
    {
        if (tokens < 0 || tokens > Tokens) throw new ArgumentOutOfRangeException(nameof(tokens), $"{tokens} is outside [0, {Tokens}]");
        int width = Layers.Count * ExpertsPerToken;
        return this with { Experts = Experts.Take(tokens * width).ToArray() };
    }
}
