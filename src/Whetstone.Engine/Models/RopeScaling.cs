namespace Whetstone.Engine.Models;

/// <summary>How rotary frequencies are stretched for long context. Only the kinds we implement
/// exactly are representable; anything else is refused when the config is read.</summary>
public sealed record RopeScaling
{
    /// <summary>"default", "linear", "llama3" or "yarn".</summary>
    public string Type { get; init; } = "default";
    public double Factor { get; init; } = 1.0;
    // llama3 only (see Meta's apply_scaling): wavelengths longer than
    // original_max / low_freq_factor are divided by factor, shorter than
    // original_max / high_freq_factor are kept, and those between are blended.
    public double LowFreqFactor { get; init; } = 1.0;
    public double HighFreqFactor { get; init; } = 4.0;
    public int OriginalMaxPositionEmbeddings { get; init; } = 8192;
    // yarn only (Peng et al.; DeepSeek's DeepseekV3YarnRotaryEmbedding): frequencies that turn
    // more than beta_fast times over the original context are kept, fewer than beta_slow times are
    // divided by factor, a linear ramp between; cos/sin are multiplied by
    // mscale(factor, mscale) / mscale(factor, mscale_all_dim), and MLA's softmax scale by
    // mscale(factor, mscale_all_dim)², where mscale(s, m) = 0.1·m·ln s + 1 (1 when s ≤ 1).
    public double BetaFast { get; init; } = 32;
    public double BetaSlow { get; init; } = 1;
    public double Mscale { get; init; } = 1;
    public double MscaleAllDim { get; init; }

    public static double YarnMscale(double scale, double mscale) => scale <= 1 ? 1.0 : 0.1 * mscale * Math.Log(scale) + 1.0;

    /// <summary>The factor on cos and sin (1 for all but yarn).</summary>
    public double RotaryAttentionFactor => Type == "yarn" ? YarnMscale(Factor, Mscale) / YarnMscale(Factor, MscaleAllDim) : 1.0;

    /// <summary>The factor on MLA's softmax scale 1/√d_qk (1 for all but yarn with mscale_all_dim).</summary>
    public double SoftmaxScaleFactor => Type == "yarn" && MscaleAllDim != 0 ? Math.Pow(YarnMscale(Factor, MscaleAllDim), 2) : 1.0;

    public static readonly RopeScaling None = new();
}
