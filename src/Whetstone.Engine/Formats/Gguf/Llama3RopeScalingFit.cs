using Whetstone.Engine.Models;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>
/// Recovers llama3 rope_scaling parameters from a GGUF's rope_freqs tensor, which is all the
/// converter keeps of them. Pairs with factor 1 and factor = max are unstretched and fully
/// stretched; in between, 1/f = (1 − s)/factor + s with s = orig/(high − low)·(1/λ) − low/(high − low),
/// linear in 1/λ. Scaling orig, low and high together changes nothing, so low is fixed at Meta's 1
/// (and high at Meta's 4 when fewer than two pairs are in between); the fit is accepted only if it
/// reproduces every stored factor.
/// </summary>
internal static class Llama3RopeScalingFit
{
    const double Tolerance = 1e-4;

    public static RopeScaling Recover(float[] stored, double theta, int headDim, string file)
    {
        if (stored.Length != headDim / 2)
            throw new InvalidDataException($"{file}: rope_freqs has {stored.Length} entries, expected head_dim / 2 = {headDim / 2}");
        double factor = stored.Max();
        if (factor <= 1 + Tolerance) return RopeScaling.None;

        var wavelengths = Enumerable.Range(0, stored.Length).Select(i => Llama3RopeFactors.Wavelength(i, theta, headDim)).ToArray();
        var between = Enumerable.Range(0, stored.Length)
            .Where(i => stored[i] > 1 + Tolerance && stored[i] < factor * (1 - Tolerance))
            .Select(i => (X: 1 / wavelengths[i], S: (1 / stored[i] - 1 / factor) / (1 - 1 / factor)))
            .ToArray();

        double low = 1, high = 4, original;
        if (between.Length >= 2)
        {
            // Least squares for s = a·x + b.
            double meanX = between.Average(p => p.X), meanS = between.Average(p => p.S);
            double a = between.Sum(p => (p.X - meanX) * (p.S - meanS)) / between.Sum(p => (p.X - meanX) * (p.X - meanX));
            double b = meanS - a * meanX;
            high = low - low / b;
            original = a * (high - low);
        }
        else if (between.Length == 1)
        {
            original = (between[0].S * (high - low) + low) / between[0].X;
        }
        else
        {
            // No pair in between: any orig with 4·(longest unstretched λ) < orig < (shortest stretched λ) fits.
            double longestKept = Enumerable.Range(0, stored.Length).Where(i => stored[i] <= 1 + Tolerance).Select(i => wavelengths[i]).DefaultIfEmpty(0).Max();
            double shortestStretched = Enumerable.Range(0, stored.Length).Where(i => stored[i] >= factor * (1 - Tolerance)).Select(i => wavelengths[i]).Min();
            original = Math.Sqrt(Math.Max(high * longestKept, 1) * shortestStretched);
        }
        // original_max_position_embeddings is an integer: rescale all three to make it one.
        double rounded = Math.Max(1, Math.Round(original));
        double k = rounded / original;
        var scaling = new RopeScaling
        {
            Type = "llama3",
            Factor = Snap(factor),
            LowFreqFactor = Snap(low * k),
            HighFreqFactor = Snap(high * k),
            OriginalMaxPositionEmbeddings = (int)rounded,
        };
        var recomputed = Llama3RopeFactors.Factors(scaling, theta, headDim);
        for (int i = 0; i < stored.Length; i++)
            if (Math.Abs(recomputed[i] - stored[i]) > Tolerance * stored[i])
                throw new NotSupportedException($"{file}: rope_freqs[{i}] = {stored[i]} does not follow llama3 RoPE scaling (fit gives {recomputed[i]}); only llama3 rope_freqs can be imported");
        return scaling;
    }

    /// <summary>Float32 storage blurs 8 into 7.9999995; configs hold round numbers.</summary>
    static double Snap(double value)
    {
        double r = Math.Round(value, 3);
        return Math.Abs(r - value) < 1e-4 * Math.Max(1, Math.Abs(value)) ? r : value;
    }
}
