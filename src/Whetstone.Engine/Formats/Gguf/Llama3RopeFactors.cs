using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>llama.cpp does not read llama3 rope_scaling parameters; the converter instead stores
/// the per-frequency divisor as the rope_freqs tensor [head_dim/2], which ggml's RoPE divides
/// each base frequency by. Same formula as Meta's apply_scaling and <see cref="RopeScaling"/>.</summary>
internal static class Llama3RopeFactors
{
    public static Tensor Compute(ModelConfig config) => tensor(Factors(config.RopeScaling, config.RopeTheta, config.HeadDim), device: CPU);   // written to a file

    public static float[] Factors(RopeScaling s, double theta, int headDim)
    {
        double lowWavelength = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
        double highWavelength = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        var factors = new float[headDim / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            double wavelength = Wavelength(i, theta, headDim);
            if (wavelength < highWavelength) factors[i] = 1;
            else if (wavelength > lowWavelength) factors[i] = (float)s.Factor;
            else
            {
                double smooth = (s.OriginalMaxPositionEmbeddings / wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                factors[i] = (float)(1 / ((1 - smooth) / s.Factor + smooth));
            }
        }
        return factors;
    }

    /// <summary>Frequencies in fp32 as the converter computes them, so borderline pairs classify alike.</summary>
    public static double Wavelength(int pair, double theta, int headDim) =>
        2 * Math.PI / (1.0f / MathF.Pow((float)theta, 2 * pair / (float)headDim));
}
