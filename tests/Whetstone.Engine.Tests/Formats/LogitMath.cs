namespace Whetstone.Engine.Tests.Formats;

/// <summary>Plain-array arithmetic for comparing llama.cpp's logits with ours, kept outside
/// torch so the comparison does not run through the code under test.</summary>
internal static class LogitMath
{
    public static float[] LogSoftmax(Span<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        double log = max + Math.Log(sum);
        var result = new float[logits.Length];
        for (int i = 0; i < logits.Length; i++) result[i] = (float)(logits[i] - log);
        return result;
    }

    public static float MaxDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        float worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    public static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
