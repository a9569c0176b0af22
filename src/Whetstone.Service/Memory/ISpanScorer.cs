namespace Whetstone.Service.Memory;

/// <summary>The mask step's scorer: every span's value for the future, and a value per token
/// (what the extractive refill keeps). The heuristic scorer is <see cref="LossIncreaseScorer"/>;
/// a learned scorer — a value head on the base model trained on hindsight labels (which spans
/// later questions needed) through the training API's value losses — implements the same call
/// with one forward pass that reads the head at every token (span value = the head's value at
/// the span's last token), and is chosen per memory without changing allocate or refill.</summary>
internal interface ISpanScorer
{
    /// <summary>Its name in the operation log.</summary>
    string Name { get; }

    /// <summary>Scores <paramref name="spans"/> (the memory in order) against <paramref name="probe"/>
    /// (the tokens the memory must serve next: the new turn). Adds the tokens it processed to <paramref name="work"/>.</summary>
    Task<SpanScores> ScoreAsync(IReadOnlyList<MemorySpan> spans, IReadOnlyList<int> probe, MemoryTurnWork work, CancellationToken cancellationToken);
}

/// <summary>Per span, its value (higher: keep); per span and token, the token's value.</summary>
internal sealed record SpanScores(IReadOnlyList<double> SpanValues, IReadOnlyList<IReadOnlyList<float>> TokenValues);
