using Whetstone.Engine.Runtime;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Chooses each token's experts and their gate weights from the router's logits, as
/// DeepSeek-V3 (sigmoid, noaux_tc) and Qwen3-MoE (softmax) do. Everything here is fp32 (fp64 for
/// an fp64 network): a choice between near-equal experts must not flip with the compute dtype.</summary>
internal static class ExpertRouter
{
    /// <summary>logits [N, E]; bias [E] or null → experts [N, k] int64 and weights [N, k].
    /// With <paramref name="replay"/> ([N, k] experts chosen earlier, e.g. by the sampler) the
    /// choice is taken as given and only the weights are computed from the current scores; a
    /// replayed −1 leaves that slot to the router (tokens no sampler routed: padding, or rows of a
    /// batch that came without routing).</summary>
    public static (Tensor Experts, Tensor Weights) Route(Tensor logits, MoeShape shape, Tensor? bias, Tensor? replay = null)
    {
        var scores = shape.Scoring == RouterScoring.Softmax ? logits.softmax(-1) : logits.sigmoid();   // [N, E]
        var experts = replay is null ? Choose(scores, shape, bias) : Replayed(replay, scores, shape, bias);
        var weights = scores.gather(1, experts);                                                       // [N, k]
        // DeepSeek normalises only when k > 1 (and adds 1e-20 against a zero sum); Qwen always when asked.
        if (shape.NormTopkProb && (shape.Scoring == RouterScoring.Softmax || shape.ExpertsPerToken > 1))
            weights = weights / (weights.sum(-1, keepdim: true) + (shape.Scoring == RouterScoring.Sigmoid ? 1e-20 : 0.0));
        if (shape.RoutedScalingFactor != 1.0) weights = weights * shape.RoutedScalingFactor;
        return (experts, weights);
    }

    static Tensor Replayed(Tensor replay, Tensor scores, MoeShape shape, Tensor? bias)
    {
        var free = replay.lt(Scalars.Zero);
        return free.any().item<bool>() ? where(free, Choose(scores, shape, bias), replay) : replay;
    }

    /// <summary>The top-k experts by score (+ the correction bias, which steers the choice but
    /// never the weights), within each token's topk_group best groups when n_group > 1.</summary>
    public static Tensor Choose(Tensor scores, MoeShape shape, Tensor? bias)
    {
        long tokens = scores.shape[0];
        var forChoice = bias is null ? scores : scores + bias.to(scores.dtype).unsqueeze(0);
        if (shape.NGroup > 1)
        {
            int perGroup = shape.RoutedExperts / shape.NGroup;
            // A group's score is the sum of its two best experts' (biased) scores.
            var groupScores = forChoice.view(tokens, shape.NGroup, perGroup).topk(2, dim: -1).values.sum(-1);  // [N, G]
            var groups = groupScores.topk(shape.TopkGroup, dim: -1).indexes;                                      // [N, topk_group]
            var groupMask = zeros_like(groupScores).scatter_(1, groups, ones_like(groups, dtype: groupScores.dtype));
            var expertMask = groupMask.unsqueeze(-1).expand(tokens, shape.NGroup, perGroup).reshape(tokens, shape.RoutedExperts);
            // Experts outside the chosen groups score 0, as in the published modeling code
            // (masked_fill(…, 0.0)): sigmoid scores are positive, so they lose unless the bias is negative.
            forChoice = forChoice.masked_fill(expertMask.eq(Scalars.Zero), Scalars.Zero);
        }
        return forChoice.topk(shape.ExpertsPerToken, dim: -1).indexes;
    }
}
