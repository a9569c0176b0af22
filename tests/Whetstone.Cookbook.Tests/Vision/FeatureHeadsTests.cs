using Whetstone.Cookbook.Vision;

namespace Whetstone.Cookbook.Tests.Vision;

public class FeatureHeadsTests
{
    static readonly float[][] X = [[1, 0, 0.2f], [0.9f, 0.1f, 0], [0, 1, 0.1f], [0.1f, 0.8f, 0.3f], [0, 0.1f, 1], [0.2f, 0, 0.9f]];
    static readonly int[] Y = [0, 0, 1, 1, 2, 2];

    [Fact]
    public void TheLogisticGradientMatchesFiniteDifferences()
    {
        var random = new Random(1);
        var w = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 3).Select(_ => random.NextDouble() - 0.5).ToArray()).ToArray();
        var b = new[] { 0.1, -0.2, 0.05 };
        var (gw, gb) = FeatureHeads.Gradient(w, b, X, Y, l2: 0.3);
        const double h = 1e-6;
        for (int c = 0; c < 3; c++)
        {
            for (int j = 0; j < 3; j++)
            {
                double keep = w[c][j];
                w[c][j] = keep + h; double up = FeatureHeads.Loss(w, b, X, Y, 0.3);
                w[c][j] = keep - h; double down = FeatureHeads.Loss(w, b, X, Y, 0.3);
                w[c][j] = keep;
                Assert.Equal((up - down) / (2 * h), gw[c][j], 6);
            }
            double kb = b[c];
            b[c] = kb + h; double bu = FeatureHeads.Loss(w, b, X, Y, 0.3);
            b[c] = kb - h; double bd = FeatureHeads.Loss(w, b, X, Y, 0.3);
            b[c] = kb;
            Assert.Equal((bu - bd) / (2 * h), gb[c], 6);
        }
    }

    [Fact]
    public void BothHeadsSeparateSeparableClassesAndTheCentroidIsTheNearestMean()
    {
        var logistic = FeatureHeads.Logistic(X, Y, 3);
        var centroid = FeatureHeads.NearestCentroid(X, Y, 3);
        for (int i = 0; i < X.Length; i++)
        {
            Assert.Equal(Y[i], logistic(X[i]));
            Assert.Equal(Y[i], centroid(X[i]));
        }
        // Scale does not matter (features are normalised); a point between two means goes to the nearer one.
        Assert.Equal(1, centroid([0, 10, 1]));
        Assert.Equal(0, centroid([0.6f, 0.4f, 0.1f]));
        Assert.Equal(2, logistic([0.1f, 0.2f, 5]));
    }

    [Fact]
    public void ResNet18GivesTheSameFeaturesForTheSamePictureAndOthersForAnother()
    {
        using var resnet = ResNet18Features.TryLoad();
        Assert.SkipWhen(resnet is null, "the ResNet18 ONNX models were not copied next to the tests");
        var star = resnet!.Of(ShapeScenes.Shapes(3, 224, ["star"]).Png);
        Assert.Equal(ResNet18Features.Dimensions, star.Length);
        Assert.All(star, v => Assert.True(float.IsFinite(v) && v >= 0));   // after ReLU and pooling
        Assert.Equal(star, resnet.Of(ShapeScenes.Shapes(3, 224, ["star"]).Png));
        var cross = resnet.Of(ShapeScenes.Shapes(3, 224, ["cross"]).Png);
        double cosine = star.Zip(cross).Sum(p => (double)p.First * p.Second)
            / Math.Sqrt(star.Sum(v => (double)v * v) * cross.Sum(v => (double)v * v));
        Assert.InRange(cosine, 0, 0.999);
    }
}
