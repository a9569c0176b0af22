namespace Whetstone.Protocol;

/// <summary>The experts that computed a sequence on a mixture-of-experts model (routing replay):
/// for every token, each sparse layer's experts_per_token choices, flat in [token, layer, slot]
/// order, layers as listed (ascending). A sample asked with include_routing returns it for its
/// prompt and every sampled token but the last — the model_input of a datum made from that
/// sample — and a datum carrying it makes the learner run those experts (gate weights still come
/// from the learner's router).</summary>
public sealed record RoutedExperts(IReadOnlyList<int> Layers, int ExpertsPerToken, IReadOnlyList<int> Experts)
{
    /// <summary>Tokens covered: experts ÷ (layers · experts_per_token).</summary>
    public int TokenCount => Layers.Count == 0 || ExpertsPerToken == 0 ? 0 : Experts.Count / (Layers.Count * ExpertsPerToken);

    /// <summary>The first <paramref name="tokens"/> tokens' routing (a datum whose input is a
    /// prefix of what the sampler ran).</summary>
    public RoutedExperts Prefix(int tokens)
    {
        if (tokens < 0 || tokens > TokenCount) throw new ArgumentOutOfRangeException(nameof(tokens), $"{tokens} is outside [0, {TokenCount}]");
        return this with { Experts = Experts.Take(tokens * Layers.Count * ExpertsPerToken).ToArray() };
    }
}
