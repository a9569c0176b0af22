namespace Whetstone.Cookbook.LongMemory;

/// <summary>Any gradient a client computes for a value head's logit, as a binary_logistic datum.
/// binary_logistic's term for one sequence is w · (softplus(v) − y·v), whose gradient in v is
/// w · (σ(v) − y), with the API's limits y ∈ [0, 1] and w ≥ 0. For a wanted gradient g at the
/// current value v: g &gt; 0 → y = 0, w = g / σ(v); g &lt; 0 → y = 1, w = −g / (1 − σ(v)); both
/// give exactly w · (σ(v) − y) = g. So REINFORCE (or any policy gradient computed on the client)
/// runs through the training API's value loss unchanged, as long as v is the value the forward
/// pass will see (same weights: score, then forward_backward, then optim_step). A plain "label =
/// kept, weight = advantage" is exact only for a Bernoulli keep with T = 1 and advantage ≥ 0; a
/// flipped label for negative advantages is not the REINFORCE gradient.</summary>
public static class LogisticGradientTarget
{
    /// <summary>σ is kept off 0 and 1 so the weight stays finite; the gradient is exact inside that range.</summary>
    const double Floor = 1e-6;

    public static (float Label, float Weight) For(double gradient, double value)
    {
        double sigma = Math.Clamp(1 / (1 + Math.Exp(-value)), Floor, 1 - Floor);
        return gradient >= 0 ? (0f, (float)(gradient / sigma)) : (1f, (float)(-gradient / (1 - sigma)));
    }

    /// <summary>The gradient binary_logistic gives for one datum: w · (σ(v) − y).</summary>
    public static double Gradient(float label, float weight, double value) => weight * (1 / (1 + Math.Exp(-value)) - label);
}
