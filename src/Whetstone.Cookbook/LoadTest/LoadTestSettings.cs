namespace Whetstone.Cookbook.LoadTest;

/// <summary>What one load test does: <see cref="Clients"/> concurrent clients against the server at
/// <see cref="Server"/>, each training its own LoRA run on <see cref="BaseModel"/> and sampling
/// (training API and /v1), starting new work for <see cref="Duration"/>, then finishing what is in
/// flight within <see cref="Drain"/>: past that hard deadline everything still running is cut off.</summary>
public sealed record LoadTestSettings(Uri Server, string ApiKey, string BaseModel, int Clients, TimeSpan Duration, string LogDirectory)
{
    public TimeSpan Drain { get; init; } = TimeSpan.FromMinutes(2);
    public int Seed { get; init; } = 1;
    public int LoraRank { get; init; } = 4;
    /// <summary>Tokens per sampled answer (training-API sample and /v1 alike).</summary>
    public int MaxTokens { get; init; } = 8;
    /// <summary>Every this many iterations a client saves its adapter for sampling and samples from it.</summary>
    public int AdapterEvery { get; init; } = 8;

    public void Validate()
    {
        if (Clients is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(Clients), Clients, "clients must be 1–1024");
        if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromHours(24)) throw new ArgumentOutOfRangeException(nameof(Duration), Duration, "duration must be positive and at most 24 h");
        if (Drain <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Drain), Drain, "drain must be positive");
        if (MaxTokens < 1 || AdapterEvery < 1 || LoraRank < 1) throw new ArgumentException("max tokens, adapter interval and LoRA rank must be at least 1");
    }
}
