using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>Router choices and gate weights on hand-made scores, worked out by hand.</summary>
public class ExpertRouterTests
{
    static MoeShape Shape(RouterScoring scoring, int experts, int k, int groups = 1, int topkGroup = 1, bool norm = false, double scaling = 1) => new()
    {
        Scoring = scoring, RoutedExperts = experts, ExpertsPerToken = k, MoeIntermediateSize = 1,
        NGroup = groups, TopkGroup = topkGroup, NormTopkProb = norm, RoutedScalingFactor = scaling,
    };

    // Logits whose sigmoids are exactly the given probabilities.
    static Tensor LogitsOf(params double[] p) => tensor(p.Select(x => Math.Log(x / (1 - x))).ToArray(), dtype: ScalarType.Float64).unsqueeze(0);

    static (long[] Experts, double[] Weights) Route(Tensor logits, MoeShape shape, double[]? bias = null, long[]? replay = null)
    {
        var (experts, weights) = ExpertRouter.Route(logits, shape, bias is null ? null : tensor(bias, dtype: ScalarType.Float64),
            replay is null ? null : tensor(replay).unsqueeze(0));
        // Sort by expert so the assertions do not depend on top-k's order.
        var e = experts[0].data<long>().ToArray();
        var w = weights[0].data<double>().ToArray();
        var order = Enumerable.Range(0, e.Length).OrderBy(i => e[i]).ToArray();
        return (order.Select(i => e[i]).ToArray(), order.Select(i => w[i]).ToArray());
    }

    [Fact]
    public void SoftmaxTopTwoIsRenormalised()
    {
        var (experts, weights) = Route(tensor(new[] { 0.0, 3.0, 1.0, 2.0 }).unsqueeze(0), Shape(RouterScoring.Softmax, 4, 2, norm: true));
        Assert.Equal([1L, 3L], experts);
        double e3 = Math.Exp(3), e2 = Math.Exp(2);
        Assert.Equal(e3 / (e3 + e2), weights[0], 1e-12);
        Assert.Equal(e2 / (e3 + e2), weights[1], 1e-12);
        // Without norm_topk_prob the weights are the softmax over all four experts.
        var (_, raw) = Route(tensor(new[] { 0.0, 3.0, 1.0, 2.0 }).unsqueeze(0), Shape(RouterScoring.Softmax, 4, 2));
        double all = 1 + Math.E + e2 + e3;
        Assert.Equal(e3 / all, raw[0], 1e-12);
    }

    [Fact]
    public void CorrectionBiasChangesTheChoiceButNotTheWeights()
    {
        var logits = LogitsOf(0.88, 0.73, 0.5, 0.27);
        Assert.Equal([0L, 1L], Route(logits, Shape(RouterScoring.Sigmoid, 4, 2)).Experts);
        // +2 on expert 3 makes it the best choice; its weight is still sigmoid(logit) = 0.27.
        var (experts, weights) = Route(logits, Shape(RouterScoring.Sigmoid, 4, 2), bias: [0, 0, 0, 2]);
        Assert.Equal([0L, 3L], experts);
        Assert.Equal(0.88, weights[0], 1e-12);
        Assert.Equal(0.27, weights[1], 1e-12);
        // norm_topk_prob then routed_scaling_factor: w / Σw · 2.5.
        var (_, scaled) = Route(logits, Shape(RouterScoring.Sigmoid, 4, 2, norm: true, scaling: 2.5), bias: [0, 0, 0, 2]);
        Assert.Equal(0.88 / 1.15 * 2.5, scaled[0], 1e-12);
        Assert.Equal(0.27 / 1.15 * 2.5, scaled[1], 1e-12);
    }

    [Fact]
    public void GroupLimitedRoutingChoosesOnlyInsideTheBestGroups()
    {
        // Groups {0,1} {2,3} {4,5} {6,7}; a group scores the sum of its best two: 1.00, 1.50, 1.20, 0.20.
        // Expert 0 is the single best (0.95) but its group is not among the best two, so the
        // choice is 2 and 3; without groups it would be 0 and 2.
        var logits = LogitsOf(0.95, 0.05, 0.80, 0.70, 0.60, 0.60, 0.10, 0.10);
        Assert.Equal([0L, 2L], Route(logits, Shape(RouterScoring.Sigmoid, 8, 2)).Experts);
        var (experts, weights) = Route(logits, Shape(RouterScoring.Sigmoid, 8, 2, groups: 4, topkGroup: 2));
        Assert.Equal([2L, 3L], experts);
        Assert.Equal([0.80, 0.70], weights.Select(w => Math.Round(w, 12)));
        // A bias of +0.25 on expert 5 lifts it to 0.85 for the choice (groups: 1.00, 1.50, 1.45, 0.20):
        // the choice becomes 2 and 5, and expert 5's weight stays 0.60.
        var (biased, biasedWeights) = Route(logits, Shape(RouterScoring.Sigmoid, 8, 2, groups: 4, topkGroup: 2, norm: true), bias: [0, 0, 0, 0, 0, 0.25, 0, 0]);
        Assert.Equal([2L, 5L], biased);
        Assert.Equal(0.80 / 1.40, biasedWeights[0], 1e-12);
        Assert.Equal(0.60 / 1.40, biasedWeights[1], 1e-12);
        // A bias that moves a whole group: +0.75 on experts 6 and 7 makes group {6,7} score 1.70,
        // so groups {6,7} and {2,3} win and 6, 7 (0.85 each for the choice) are chosen, with
        // their unbiased weights 0.10.
        var (moved, movedWeights) = Route(logits, Shape(RouterScoring.Sigmoid, 8, 2, groups: 4, topkGroup: 2), bias: [0, 0, 0, 0, 0, 0, 0.75, 0.75]);
        Assert.Equal([6L, 7L], moved);
        Assert.Equal([0.10, 0.10], movedWeights.Select(w => Math.Round(w, 12)));
    }

    [Fact]
    public void ReplayKeepsTheGivenExpertsAndRecomputesTheirWeights()
    {
        var logits = LogitsOf(0.95, 0.05, 0.80, 0.70);
        var (experts, weights) = Route(logits, Shape(RouterScoring.Sigmoid, 4, 2, norm: true), replay: [1, 3]);
        Assert.Equal([1L, 3L], experts);
        Assert.Equal(0.05 / 0.75, weights[0], 1e-12);
        Assert.Equal(0.70 / 0.75, weights[1], 1e-12);
    }
}
