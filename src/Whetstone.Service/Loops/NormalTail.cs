namespace Whetstone.Service.Loops;

/// <summary>P(Z &gt; z) for a standard normal Z: turns the canary's `z` setting into the error rate
/// its sequential bound spends (z 2 → 0.02275, the one-sided tail a fixed z-2 bound would have).
/// erfc by the Chebyshev-fitted exponential of Numerical Recipes (§6.2, "erfcc"), fractional error
/// below 1.2e-7 for every argument, so even z 10's 7.6e-24 keeps its digits.</summary>
internal static class NormalTail
{
    public static double Upper(double z) => z >= 0 ? Erfc(z / Math.Sqrt(2)) / 2 : 1 - Erfc(-z / Math.Sqrt(2)) / 2;

    /// <summary>erfc(x) for x ≥ 0.</summary>
    static double Erfc(double x)
    {
        double t = 1 / (1 + 0.5 * x);
        double poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        return t * Math.Exp(-x * x + poly);
    }
}
