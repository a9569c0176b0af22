using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Rotary position embedding in Hugging Face's "rotate half" layout: dimension i is
/// paired with i + D/2 (not with its neighbour, as in Meta's original complex form).</summary>
internal sealed class RotaryEmbedding
{
    readonly float[] _inverseFrequencies;

    public RotaryEmbedding(ModelConfig config)
    {
        _inverseFrequencies = InverseFrequencies(config.HeadDim, config.RopeTheta, config.RopeScaling);
    }

    public IReadOnlyList<float> InverseFrequenciesForTest => _inverseFrequencies;

    /// <summary>inv_freq[i] = θ^(−2i/D), then stretched as the scaling says.</summary>
    public static float[] InverseFrequencies(int headDim, double theta, RopeScaling scaling)
    {
        int half = headDim / 2;
        var result = new float[half];
        for (int i = 0; i < half; i++)
        {
            double inv = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
            result[i] = (float)(scaling.Type switch
            {
                "linear" => inv / scaling.Factor,
                "llama3" => Llama3Scale(inv, scaling),
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

    /// <summary>cos and sin for each position: [B, T] → two [B, T, 1, D] tensors in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions, ScalarType dtype)
    {
        var inv = tensor(_inverseFrequencies);                                   // [D/2]
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * inv;        // [B, T, D/2]
        var emb = cat([freqs, freqs], -1).unsqueeze(2);                          // [B, T, 1, D]
        return (emb.cos().to(dtype), emb.sin().to(dtype));
    }

    /// <summary>M-RoPE (Qwen2.5-VL): positions [3, B, T] (temporal, height, width); frequency
    /// pair i turns with the temporal axis for i &lt; section[0], with the height axis for the next
    /// section[1], with the width axis for the rest. Equal axes give exactly the 1-D angles.</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions, ScalarType dtype, IReadOnlyList<int> mropeSection)
    {
        if (positions.dim() == 2) return Angles(positions, dtype);
        var inv = tensor(_inverseFrequencies);                                    // [D/2]
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * inv;         // [3, B, T, D/2]
        var axis = new long[_inverseFrequencies.Length];
        for (int i = 0; i < axis.Length; i++) axis[i] = i < mropeSection[0] ? 0 : i < mropeSection[0] + mropeSection[1] ? 1 : 2;
        long b = positions.shape[1], t = positions.shape[2], half = axis.Length;
        var chosen = freqs.permute(1, 2, 3, 0)                                    // [B, T, D/2, 3]
            .gather(-1, tensor(axis).view(1, 1, half, 1).expand(b, t, half, 1)).squeeze(-1);   // [B, T, D/2]
        var emb = cat([chosen, chosen], -1).unsqueeze(2);                         // [B, T, 1, D]
        return (emb.cos().to(dtype), emb.sin().to(dtype));
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
