using Whetstone.Engine.Models;

namespace Whetstone.Engine.Planning;

/// <summary>Parameter counts of a config, split the way parallelism splits them: routed experts
/// (sharded by expert parallelism) against everything else (sharded by tensor parallelism), and
/// total against active per token. Counted from the shapes the engine builds, tensor by tensor.</summary>
public sealed record ModelFootprint
{
    public required long Embedding { get; init; }          // embed_tokens (+ lm_head when untied)
    public required long AttentionPerLayer { get; init; }  // projections + their norms
    public required long DenseMlpPerLayer { get; init; }
    public required long ExpertParameters { get; init; }   // one routed expert
    public required long SharedExpertsPerLayer { get; init; }
    public required long RouterPerLayer { get; init; }     // gate + correction bias
    public required int Layers { get; init; }
    public required int SparseLayers { get; init; }
    public required int RoutedExperts { get; init; }
    public required int ExpertsPerToken { get; init; }
    public required long NormsPerLayer { get; init; }
    public required long FinalNorm { get; init; }

    public int DenseLayers => Layers - SparseLayers;

    /// <summary>All routed experts of all sparse layers.</summary>
    public long RoutedExpertTotal => (long)SparseLayers * RoutedExperts * ExpertParameters;

    /// <summary>Everything that is not a routed expert.</summary>
    public long NonExpertTotal => Embedding + FinalNorm
        + Layers * (AttentionPerLayer + NormsPerLayer)
        + DenseLayers * DenseMlpPerLayer
        + SparseLayers * (SharedExpertsPerLayer + RouterPerLayer);

    public long Total => NonExpertTotal + RoutedExpertTotal;

    /// <summary>Parameters one token multiplies through: all but the experts it was not routed to
    /// (the embedding row lookup counted whole, as the published "activated" figures do).</summary>
    public long ActivePerToken => NonExpertTotal + (long)SparseLayers * ExpertsPerToken * ExpertParameters;

    public static ModelFootprint Of(ModelConfig c)
    {
        long h = c.HiddenSize;
        long attention;
        if (c.Mla is MlaShape m)
        {
            long heads = c.NumAttentionHeads;
            long query = m.QLoraRank is int r ? h * r + r + (long)r * heads * m.QkHeadDim : h * heads * m.QkHeadDim;
            attention = query + h * (m.KvLoraRank + m.QkRopeHeadDim) + m.KvLoraRank
                + (long)m.KvLoraRank * heads * (m.QkNopeHeadDim + m.VHeadDim) + heads * m.VHeadDim * h;
        }
        else
        {
            long q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
            attention = h * q + 2 * h * kv + q * h + (c.AttentionBias ? q + 2 * kv : 0) + (c.QkNorm ? 2L * c.HeadDim : 0);
        }
        var moe = c.Moe;
        int sparse = moe is null ? 0 : Enumerable.Range(0, c.NumHiddenLayers).Count(moe.IsSparseLayer);
        long expert = moe is null ? 0 : 3 * h * moe.MoeIntermediateSize;
        return new ModelFootprint
        {
            Embedding = (long)c.VocabSize * h * (c.TieWordEmbeddings ? 1 : 2),
            AttentionPerLayer = attention,
            DenseMlpPerLayer = 3 * h * c.IntermediateSize,
            ExpertParameters = expert,
            SharedExpertsPerLayer = moe is null ? 0 : expert * moe.SharedExperts,
            RouterPerLayer = moe is null ? 0 : moe.RoutedExperts * h + (moe.ScoreCorrectionBias ? moe.RoutedExperts : 0),
            Layers = c.NumHiddenLayers,
            SparseLayers = sparse,
            RoutedExperts = moe?.RoutedExperts ?? 0,
            ExpertsPerToken = moe?.ExpertsPerToken ?? 0,
            NormsPerLayer = 2 * h,
            FinalNorm = h,
        };
    }

    /// <summary>LoRA parameters of rank r on every attention projection and, with
    /// <paramref name="experts"/>, on every MLP projection including each routed expert's three —
    /// per-expert A and B, or one A shared by the experts of a layer with per-expert B.</summary>
    public static long LoraParameters(ModelConfig c, int rank, bool experts, bool sharedExpertA = false)
    {
        long h = c.HiddenSize, total = 0;
        long Pair(long inFeatures, long outFeatures) => rank * (inFeatures + outFeatures);
        if (c.Mla is MlaShape m)
        {
            long heads = c.NumAttentionHeads;
            long perLayer = (m.QLoraRank is int r ? Pair(h, r) + Pair(r, heads * m.QkHeadDim) : Pair(h, heads * m.QkHeadDim))
                + Pair(h, m.KvLoraRank + m.QkRopeHeadDim) + Pair(m.KvLoraRank, heads * (m.QkNopeHeadDim + m.VHeadDim)) + Pair(heads * m.VHeadDim, h);
            total += perLayer * c.NumHiddenLayers;
        }
        else
        {
            long q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
            total += (Pair(h, q) + 2 * Pair(h, kv) + Pair(q, h)) * c.NumHiddenLayers;
        }
        if (!experts) return total;
        var f = Of(c);
        long Mlp(long width) => 2 * Pair(h, width) + Pair(width, h);
        total += f.DenseLayers * Mlp(c.IntermediateSize);
        if (c.Moe is MoeShape moe)
        {
            long width = moe.MoeIntermediateSize;
            long routed = sharedExpertA
                // One A per projection kind per layer ([r, in]), a B per expert ([out, r]).
                ? rank * (h + h + width) + (long)moe.RoutedExperts * rank * (width + width + h)
                : moe.RoutedExperts * Mlp(width);
            total += f.SparseLayers * (routed + (moe.SharedExperts > 0 ? Mlp(width * moe.SharedExperts) : 0));
        }
        return total;
    }
}
