namespace Whetstone.Engine.Models;

/// <summary>How rotary frequencies are stretched for long context. Only the kinds we implement
/// exactly are representable; anything else is refused when the config is read.</summary>
public sealed record RopeScaling
{
    /// <summary>"default", "linear" or "llama3".</summary>
    public string Type { get; init; } = "default";
    public double Factor { get; init; } = 1.0;
    // llama3 only (see Meta's apply_scaling): wavelengths longer than
    // original_max / low_freq_factor are divided by factor, shorter than
    // original_max / high_freq_factor are kept, and those between are blended.
    public double LowFreqFactor { get; init; } = 1.0;
    public double HighFreqFactor { get; init; } = 4.0;
    public int OriginalMaxPositionEmbeddings { get; init; } = 8192;

    public static readonly RopeScaling None = new();
}
