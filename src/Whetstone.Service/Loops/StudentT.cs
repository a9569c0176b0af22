namespace Whetstone.Service.Loops;

/// <summary>Student's t quantile for a normal quantile z: the t with the same tail probability on
/// <c>df</c> degrees of freedom, by the Cornish–Fisher expansion (Abramowitz &amp; Stegun 26.7.5).
/// A canary that counts users has few of them (5–20): its standard error is itself estimated from a
/// handful of differences, and a bound of z normal standard errors would be too narrow (on 4 users,
/// z 2 is t 3.3). Below the exact quantile by under 0.7% from 3 degrees of freedom up for z ≤ 2.5
/// (2.3% at z 3); the canary needs at least 4 users, so never fewer than 3.</summary>
internal static class StudentT
{
    public static double QuantileLike(double z, int df)
    {
        if (df < 1) throw new ArgumentOutOfRangeException(nameof(df), df, "at least 1 degree of freedom");
        double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2, v = df;
        double g1 = (z3 + z) / 4;
        double g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
        double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
        double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
        return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
    }
}
