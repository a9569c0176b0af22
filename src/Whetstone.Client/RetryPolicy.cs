namespace Whetstone.Client;

/// <summary>
/// How <see cref="HttpTransport"/> retries answers that may succeed later — 408, 429, 500, 502,
/// 503, 504 — and attempts that never got an answer (connection failures, an attempt running
/// past <see cref="AttemptTimeout"/>). Other 4xx answers are never retried: the same request
/// would be refused again.
/// </summary>
/// <remarks>
/// Waits grow exponentially from <see cref="InitialDelay"/> (doubling per failed attempt) with
/// "equal jitter" (half fixed, half random) so that clients refused together do not return
/// together, and never exceed <see cref="MaxDelay"/>. A 429 or 503 with Retry-After waits what
/// the server asked (plus up to 10% jitter), again capped at <see cref="MaxDelay"/>.
/// </remarks>
public sealed record RetryPolicy
{
    public static RetryPolicy Default { get; } = new();

    /// <summary>No retries: every request is tried once.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in all, the first included; at least 1.</summary>
    public int MaxAttempts { get; init; } = 8;

    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one attempt may take before it is abandoned and retried. Must exceed
    /// the 30 s long-poll of futures; a download only needs its headers within it.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromMinutes(2);

    internal void Validate()
    {
        if (MaxAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "RetryPolicy.MaxAttempts must be at least 1.");
        if (InitialDelay < TimeSpan.Zero || MaxDelay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(InitialDelay), "RetryPolicy delays must not be negative.");
        if (AttemptTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "RetryPolicy.AttemptTimeout must be positive.");
    }

    /// <summary>The wait after failed attempt number <paramref name="failedAttempt"/> (1-based).</summary>
    /// <param name="random01">A uniform draw in [0, 1], passed in so tests can pin the jitter.</param>
    internal TimeSpan DelayBeforeRetry(int failedAttempt, TimeSpan? retryAfter, double random01)
    {
        if (retryAfter is { } asked)
        {
            var jittered = Math.Max(0, asked.TotalMilliseconds) * (1 + 0.1 * random01);
            return TimeSpan.FromMilliseconds(Math.Min(jittered, MaxDelay.TotalMilliseconds));
        }
        // Capping the exponent keeps 2^n finite for absurd attempt counts.
        var exponential = InitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failedAttempt - 1, 30));
        var capped = Math.Min(exponential, MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped / 2 + random01 * capped / 2);
    }
}
