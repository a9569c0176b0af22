namespace Whetstone.Engine.Training;

/// <summary>One training example as in Tinker: the input tokens and, per input position, the
/// token it should predict plus the loss inputs the chosen loss needs. Every per-token list has
/// the input's length. (Tinker's loss_fn_inputs map, with its names, is the wire form; the
/// service maps it onto these fields.)</summary>
public sealed record Datum
{
    public required IReadOnlyList<int> InputTokens { get; init; }
    /// <summary>loss_fn_inputs["target_tokens"]: the token predicted at each position.</summary>
    public required IReadOnlyList<int> TargetTokens { get; init; }
    /// <summary>loss_fn_inputs["weights"] (cross_entropy): per-token weight, 0 = not trained.</summary>
    public IReadOnlyList<float>? Weights { get; init; }
    /// <summary>loss_fn_inputs["logprobs"]: the sampler's log q(target) (RL losses).</summary>
    public IReadOnlyList<float>? Logprobs { get; init; }
    /// <summary>loss_fn_inputs["advantages"] (RL losses).</summary>
    public IReadOnlyList<float>? Advantages { get; init; }
    /// <summary>Images placed over image pad tokens of <see cref="InputTokens"/> (vision-language models).</summary>
    public IReadOnlyList<Models.Vision.PlacedImage> Images { get; init; } = [];
    /// <summary>The sampler's experts for every input token (routing replay, MoE models): the
    /// learner runs these experts instead of choosing, with gate weights from its own router.</summary>
    public Models.RoutedExperts? Routing { get; init; }

    public int Length => InputTokens.Count;

    /// <summary>A datum for next-token prediction on a whole sequence: input = tokens[..^1],
    /// target = tokens[1..], weights given per target (default 1).</summary>
    public static Datum ForNextToken(IReadOnlyList<int> tokens, IReadOnlyList<float>? weights = null) => new()
    {
        InputTokens = tokens.Take(tokens.Count - 1).ToArray(),
        TargetTokens = tokens.Skip(1).ToArray(),
        Weights = weights ?? Enumerable.Repeat(1f, tokens.Count - 1).ToArray(),
    };
}
