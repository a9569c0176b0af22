using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// Builds training data from a token sequence. The model reads tokens[..^1] and is scored on
/// predicting tokens[1..]; per-token values are given aligned with <c>tokens</c> (the value of
/// token i applies to predicting token i) and shifted the same way, as Tinker's
/// <c>datum_from_model_input_weights</c> does. Values at index 0 are therefore unused.
/// </summary>
public static class Datums
{
    /// <summary>A datum for the "cross_entropy" loss, <c>-(logp · weights).sum()</c>.
    /// <paramref name="weights"/> defaults to 1 for every token (0 marks prompt tokens that are
    /// read but not trained on).</summary>
    public static Datum ForCrossEntropy(IReadOnlyList<int> tokens, IReadOnlyList<float>? weights = null)
    {
        RequirePredictable(tokens);
        var targetWeights = weights is null ? Enumerable.Repeat(1f, tokens.Count - 1) : Shifted(weights, tokens, nameof(weights));
        return Build(tokens, new Dictionary<string, TensorData> { ["weights"] = TensorData.Float32(targetWeights) });
    }

    /// <summary>A datum for the policy-gradient losses (importance_sampling, ppo, cispo, dro):
    /// <paramref name="samplerLogprobs"/> are the sampler's logprobs of the tokens (q),
    /// <paramref name="advantages"/> their advantages (0 for prompt tokens).</summary>
    public static Datum ForPolicyGradient(IReadOnlyList<int> tokens, IReadOnlyList<float> samplerLogprobs, IReadOnlyList<float> advantages)
    {
        RequirePredictable(tokens);
        return Build(tokens, new Dictionary<string, TensorData>
        {
            ["logprobs"] = TensorData.Float32(Shifted(samplerLogprobs, tokens, nameof(samplerLogprobs))),
            ["advantages"] = TensorData.Float32(Shifted(advantages, tokens, nameof(advantages))),
        });
    }

    static Datum Build(IReadOnlyList<int> tokens, Dictionary<string, TensorData> inputs)
    {
        inputs["target_tokens"] = TensorData.Int64(tokens.Skip(1));
        return new Datum(ModelInput.FromTokens(tokens.Take(tokens.Count - 1)), inputs);
    }

    static void RequirePredictable(IReadOnlyList<int> tokens)
    {
        if (tokens.Count < 2)
            throw new ArgumentException($"A datum needs at least 2 tokens (one to read, one to predict), got {tokens.Count}.", nameof(tokens));
    }

    static IEnumerable<float> Shifted(IReadOnlyList<float> values, IReadOnlyList<int> tokens, string name) =>
        values.Count == tokens.Count
            ? values.Skip(1)
            : throw new ArgumentException($"{name} has {values.Count} values for {tokens.Count} tokens; give one per token.", name);
}
