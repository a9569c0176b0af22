namespace Whetstone.Cookbook.Vision;

/// <summary>Classification heads on fixed features for the vision-only baseline, trained on the
/// same shots as the VLM. Features are L2-normalised first (ResNet features differ in scale
/// from image to image far more than in direction).</summary>
public static class FeatureHeads
{
    public static float[] Normalised(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return norm == 0 ? v : v.Select(x => (float)(x / norm)).ToArray();
    }

    /// <summary>Nearest class mean (Euclidean, on normalised features).</summary>
    public static Func<float[], int> NearestCentroid(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes)
    {
        int d = features[0].Length;
        var centroids = new double[classes][];
        for (int c = 0; c < classes; c++)
        {
            var members = features.Where((_, i) => labels[i] == c).Select(Normalised).ToArray();
            centroids[c] = Enumerable.Range(0, d).Select(j => members.Average(m => (double)m[j])).ToArray();
        }
        return x =>
        {
            var v = Normalised(x);
            return Enumerable.Range(0, classes).MinBy(c => Enumerable.Range(0, d).Sum(j => (v[j] - centroids[c][j]) * (v[j] - centroids[c][j])));
        };
    }

    /// <summary>Multinomial logistic regression (softmax + cross-entropy + L2 weight penalty)
    /// by full-batch gradient descent from zero weights: deterministic.</summary>
    public static Func<float[], int> Logistic(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes,
        int epochs = 300, double learningRate = 0.5, double l2 = 1e-3)
    {
        var (w, b) = FitLogistic(features.Select(Normalised).ToArray(), labels, classes, epochs, learningRate, l2);
        return x => ArgMax(Scores(w, b, Normalised(x)));
    }

    internal static (double[][] W, double[] B) FitLogistic(IReadOnlyList<float[]> x, IReadOnlyList<int> labels, int classes,
        int epochs, double learningRate, double l2)
    {
        int d = x[0].Length, n = x.Count;
        var w = Enumerable.Range(0, classes).Select(_ => new double[d]).ToArray();
        var b = new double[classes];
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var (gw, gb) = Gradient(w, b, x, labels, l2);
            for (int c = 0; c < classes; c++)
            {
                b[c] -= learningRate * gb[c];
                for (int j = 0; j < d; j++) w[c][j] -= learningRate * gw[c][j];
            }
        }
        return (w, b);
    }

    /// <summary>Mean cross-entropy plus l2/2·|W|², and its gradient.</summary>
    internal static (double[][] Gw, double[] Gb) Gradient(double[][] w, double[] b, IReadOnlyList<float[]> x, IReadOnlyList<int> labels, double l2)
    {
        int classes = b.Length, d = x[0].Length, n = x.Count;
        var gw = w.Select(row => row.Select(v => l2 * v).ToArray()).ToArray();
        var gb = new double[classes];
        for (int i = 0; i < n; i++)
        {
            var p = Softmax(Scores(w, b, x[i]));
            for (int c = 0; c < classes; c++)
            {
                double g = (p[c] - (labels[i] == c ? 1 : 0)) / n;
                gb[c] += g;
                for (int j = 0; j < d; j++) gw[c][j] += g * x[i][j];
            }
        }
        return (gw, gb);
    }

    internal static double Loss(double[][] w, double[] b, IReadOnlyList<float[]> x, IReadOnlyList<int> labels, double l2) =>
        x.Select((xi, i) => -Math.Log(Softmax(Scores(w, b, xi))[labels[i]])).Average() + l2 / 2 * w.Sum(row => row.Sum(v => v * v));

    static double[] Scores(double[][] w, double[] b, float[] x) =>
        w.Select((row, c) => b[c] + row.Select((v, j) => v * x[j]).Sum()).ToArray();

    static double[] Softmax(double[] s)
    {
        double max = s.Max();
        var e = s.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    static int ArgMax(double[] s) => Array.IndexOf(s, s.Max());
}
