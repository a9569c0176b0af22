using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Rotary position embedding in Hugging Face's "rotate half" layout: dimension i is
/// paired with i + D/2 (not with its neighbour, as in Meta's original complex form).</summary>
internal sealed class RotaryEmbedding
{
    readonly float[] _inverseFrequencies;
    readonly double _attentionFactor;

    public RotaryEmbedding(ModelConfig config)
    {
        _inverseFrequencies = InverseFrequencies(config.HeadDim, config.RopeTheta, config.RopeScaling);
        _attentionFactor = config.RopeScaling.RotaryAttentionFactor;
    }

    public IReadOnlyList<float> InverseFrequenciesForTest => _inverseFrequencies;

    /// <summary>inv_freq[i] = θ^(−2i/D), then stretched as the scaling says.</summary>
    public static float[] InverseFrequencies(int headDim, double theta, RopeScaling scaling)
    {
        int half = headDim / 2;
        var result = new float[half];
        var (rampLow, rampHigh) = scaling.Type == "yarn" ? YarnCorrectionRange(headDim, theta, scaling) : (0, 0);
        for (int i = 0; i < half; i++)
        {
            double inv = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
            result[i] = (float)(scaling.Type switch
            {
                "linear" => inv / scaling.Factor,
                "llama3" => Llama3Scale(inv, scaling),
                "yarn" => YarnScale(inv, i, rampLow, rampHigh, scaling.Factor),
                _ => inv,
            });
        }
        return result;
    }

    // Meta's Llama 3.1 scaling: low frequencies (long wavelengths) are slowed by `factor`,
    // high frequencies are kept, and the band between is interpolated smoothly.
    static double Llama3Scale(double inv, RopeScaling s)
    {
        double lowFreqWavelength = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
        double highFreqWavelength = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        double wavelength = 2 * Math.PI / inv;
        if (wavelength < highFreqWavelength) return inv;
        if (wavelength > lowFreqWavelength) return inv / s.Factor;
        double smooth = (s.OriginalMaxPositionEmbeddings / wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
        return (1 - smooth) * inv / s.Factor + smooth * inv;
    }

    // YaRN: dimension pairs below `low` rotate fast enough over the original context to be kept
    // (extrapolated), those above `high` are interpolated (divided by factor), a linear ramp between.
    static double YarnScale(double inv, int i, double low, double high, double factor)
    {
        if (low == high) high += 0.001;
        double ramp = Math.Clamp((i - low) / (high - low), 0, 1);
        return inv / factor * ramp + inv * (1 - ramp);
    }

    // The dimension index at which a frequency turns `rotations` times over the original context,
    // floored (beta_fast) and ceiled (beta_slow), clamped to the valid range.
    static (double Low, double High) YarnCorrectionRange(int dim, double theta, RopeScaling s)
    {
        double Dimension(double rotations) =>
            dim * Math.Log(s.OriginalMaxPositionEmbeddings / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
        return (Math.Max(Math.Floor(Dimension(s.BetaFast)), 0), Math.Min(Math.Ceiling(Dimension(s.BetaSlow)), dim - 1));
    }

    /// <summary>cos and sin for each position: [B, T] → two [B, T, 1, D] tensors in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions, ScalarType dtype)
    {
        var inv = tensor(_inverseFrequencies, device: positions.device);         // [D/2]
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * inv;        // [B, T, D/2]
        var emb = cat([freqs, freqs], -1).unsqueeze(2);                          // [B, T, 1, D]
        if (_attentionFactor != 1.0) return ((emb.cos() * _attentionFactor).to(dtype), (emb.sin() * _attentionFactor).to(dtype));
        return (emb.cos().to(dtype), emb.sin().to(dtype));
    }

    /// <summary>M-RoPE (Qwen2.5-VL): positions [3, B, T] (temporal, height, width); frequency
    /// pair i turns with the temporal axis for i &lt; section[0], with the height axis for the next
    /// section[1], with the width axis for the rest. Equal axes give exactly the 1-D angles.</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions, ScalarType dtype, IReadOnlyList<int> mropeSection, bool interleaved = false)
    {
        if (positions.dim() == 2) return Angles(positions, dtype);
        var inv = tensor(_inverseFrequencies, device: positions.device);                                    // [D/2]
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * inv;         // [3, B, T, D/2]
        var axis = MropeAxes(_inverseFrequencies.Length, mropeSection, interleaved);
        long b = positions.shape[1], t = positions.shape[2], half = axis.Length;
        var chosen = freqs.permute(1, 2, 3, 0)                                    // [B, T, D/2, 3]
            .gather(-1, tensor(axis, device: positions.device).view(1, 1, half, 1).expand(b, t, half, 1)).squeeze(-1);   // [B, T, D/2]
        var emb = cat([chosen, chosen], -1).unsqueeze(2);                         // [B, T, 1, D]
        return (emb.cos().to(dtype), emb.sin().to(dtype));
    }

    /// <summary>The position axis (0 temporal, 1 height, 2 width) each of the D/2 frequency pairs
    /// turns with: contiguous sections (Qwen2.5-VL), or interleaved t, h, w, t, h, w, … while the
    /// height and width sections last, temporal after (Qwen3-VL's apply_interleaved_mrope).</summary>
    internal static long[] MropeAxes(int pairs, IReadOnlyList<int> section, bool interleaved)
    {
        var axis = new long[pairs];
        for (int i = 0; i < pairs; i++)
            axis[i] = !interleaved ? (i < section[0] ? 0 : i < section[0] + section[1] ? 1 : 2)
                : i % 3 == 1 && i < 3 * section[1] ? 1 : i % 3 == 2 && i < 3 * section[2] ? 2 : 0;
        return axis;
    }

    /// <summary>x: [B, T, heads, D].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        var x1 = x[TensorIndex.Ellipsis, TensorIndex.Slice(0, half)];
        var x2 = x[TensorIndex.Ellipsis, TensorIndex.Slice(half)];
        var rotated = cat([-x2, x1], -1);
        return x * cos + rotated * sin;
    }
}
