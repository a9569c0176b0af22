using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Memory;

namespace Whetstone.Bench;

/// <summary>The mask's learned scorer for the benchmark: the served <see cref="ValueHeadSpanScorer"/>
/// (σ of a value-head run's logit per span, the class the service's memory update uses for
/// memory.scorer kind "learned"), with its score calls made through the SDK.</summary>
internal static class LearnedSpanScorer
{
    public static ValueHeadSpanScorer Over(TrainingClient run) => new(async (sequences, cancellationToken) =>
        (await (await run.ScoreAsync(sequences.Select(ModelInput.FromTokens).ToArray(), cancellationToken)).ResultAsync(cancellationToken)).Values);
}
