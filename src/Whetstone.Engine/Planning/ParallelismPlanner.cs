using Whetstone.Engine.Models;

namespace Whetstone.Engine.Planning;

/// <summary>What to plan for: a model, a cluster, and one RL training step (a batch of sequences
/// of seq_len tokens, sampled then trained on).</summary>
public sealed record PlanRequest
{
    public required ModelConfig Config { get; init; }
    public required int Gpus { get; init; }
    /// <summary>GPU memory in GiB (an "80 GB" H100 has 80 GiB).</summary>
    public double GpuMemoryGb { get; init; } = 80;
    /// <summary>0 = full fine-tuning.</summary>
    public int LoraRank { get; init; } = 128;
    /// <summary>LoRA on the MLPs and experts as well as attention (train_mlp).</summary>
    public bool LoraOnExperts { get; init; } = true;
    public required int SeqLen { get; init; }
    /// <summary>Sequences per training step (and per rollout).</summary>
    public required int Batch { get; init; }
    /// <summary>Frozen base weights in block-scaled fp8 (as released) instead of bf16.</summary>
    public bool Fp8Weights { get; init; }
    public PlanAssumptions Assumptions { get; init; } = new();
}

/// <summary>Chooses TP, PP, EP and DP for a request by estimating every legal combination's
/// memory per GPU and step time and keeping the fastest that fits. Pure arithmetic on the
/// config's shapes; <see cref="PlanAssumptions"/> lists every constant it rests on.</summary>
public static class ParallelismPlanner
{
    public static IReadOnlyList<ParallelPlan> Candidates(PlanRequest r)
    {
        var c = r.Config;
        var plans = new List<ParallelPlan>();
        foreach (int tp in new[] { 1, 2, 4, 8 })
        {
            if (tp > r.Assumptions.GpusPerNode || r.Gpus % tp != 0 || c.NumAttentionHeads % tp != 0) continue;
            for (int pp = 1; pp <= Math.Min(c.NumHiddenLayers, r.Gpus / tp); pp++)
            {
                if (r.Gpus / tp % pp != 0) continue;
                int dp = r.Gpus / tp / pp;
                int experts = c.Moe?.RoutedExperts ?? 1;
                for (int ep = 1; ep <= Math.Min(experts, tp * dp); ep++)
                    if (experts % ep == 0 && tp * dp % ep == 0) plans.Add(Estimate(r, tp, pp, ep, dp));
            }
        }
        return plans;
    }

    /// <summary>The fastest plan that fits, or null when none does.</summary>
    public static ParallelPlan? Best(PlanRequest r) =>
        Candidates(r).Where(p => p.Fits).OrderBy(p => p.StepSeconds).ThenBy(p => p.TrainingPhaseBytes).FirstOrDefault();

    /// <summary>The fewest GPUs (whole nodes) on which some plan fits, up to <paramref name="limit"/>.</summary>
    public static (int Gpus, ParallelPlan Plan)? SmallestFit(PlanRequest r, int limit = 8192)
    {
        for (int gpus = r.Assumptions.GpusPerNode; gpus <= limit; gpus += r.Assumptions.GpusPerNode)
            if (Best(r with { Gpus = gpus }) is ParallelPlan plan) return (gpus, plan);
        return null;
    }

    public static ParallelPlan Estimate(PlanRequest r, int tp, int pp, int ep, int dp)
    {
        var c = r.Config;
        var a = r.Assumptions;
        var f = ModelFootprint.Of(c);
        bool full = r.LoraRank == 0;
        double h = c.HiddenSize, s = r.SeqLen;
        double layersPerStage = Math.Ceiling((double)c.NumHiddenLayers / pp);
        double sparsePerStage = f.SparseLayers * layersPerStage / c.NumHiddenLayers;

        // Weights: non-expert tensors split by TP and PP, routed experts by EP and PP.
        double nonExpertPerGpu = (double)f.NonExpertTotal / (tp * pp), expertPerGpu = (double)f.RoutedExpertTotal / (ep * pp);
        double baseBytes = full || !r.Fp8Weights ? 2 : 1 + 4.0 / (128 * 128);   // fp8 + one fp32 scale per 128×128 block
        double weights = (nonExpertPerGpu + expertPerGpu) * baseBytes;

        double state;
        if (full)
        {
            // Experts' data-parallel replicas: the TP × DP ranks of a stage, EP of them holding distinct experts.
            double expertReplicas = (double)tp * dp / ep;
            state = nonExpertPerGpu * (4 + 12.0 / dp) + expertPerGpu * (4 + 12.0 / expertReplicas);
        }
        else
        {
            long all = ModelFootprint.LoraParameters(c, r.LoraRank, experts: r.LoraOnExperts);
            long routed = r.LoraOnExperts && c.Moe is MoeShape m
                ? (long)f.SparseLayers * m.RoutedExperts * r.LoraRank * (3L * c.HiddenSize + 3L * m.MoeIntermediateSize) : 0;
            state = ((double)(all - routed) / (tp * pp) + (double)routed / (ep * pp)) * a.LoraBytesPerParameter;
        }

        // Activations: 1F1B keeps up to PP microbatches (1 sequence each) on the first stage.
        int microbatches = (int)Math.Ceiling((double)r.Batch / dp);
        double inFlight = Math.Min(pp, microbatches);
        double checkpoints = layersPerStage * s * h * 2 / tp * inFlight;
        double moeWorking = c.Moe is MoeShape moe ? s * moe.ExpertsPerToken / tp * (3.0 * moe.MoeIntermediateSize + 2 * h) * 2 : 0;
        double activations = checkpoints + 34 * s * h / tp + moeWorking;
        double logits = Math.Min(s, a.LogitChunkTokens) * (double)c.VocabSize * 4 * 2 / tp;

        // Rollout KV cache: sequences split over DP, layers over PP; GQA heads over TP, MLA's latent not.
        double sequencesPerGpu = Math.Ceiling((double)r.Batch / dp);
        double perTokenPerLayer = c.Mla is MlaShape mla ? mla.CachedWidth * 2.0
            : 2.0 * c.NumKeyValueHeads * c.HeadDim * 2 / Math.Min(tp, c.NumKeyValueHeads);
        double kv = sequencesPerGpu * s * layersPerStage * perTokenPerLayer;

        // Time. FLOPs per token of one forward: 2 per active weight, plus causal attention's two products.
        double attentionWidth = c.Mla is MlaShape ml ? ml.QkHeadDim + ml.VHeadDim : 2.0 * c.HeadDim;
        double forwardPerToken = 2.0 * f.ActivePerToken + 2.0 * c.NumHiddenLayers * (s / 2) * c.NumAttentionHeads * attentionWidth;
        double passes = full ? 4 : 3;
        double tokens = (double)r.Batch * s;
        double flops = a.PeakTflops * 1e12 * a.Mfu;
        double compute = tokens * forwardPerToken * passes / (r.Gpus * flops);
        double bubble = compute * (pp - 1) / microbatches;
        double bytesPerSecondIntra = a.IntraNodeGBps * 1e9, bytesPerSecondInter = a.InterNodeGBps * 1e9;
        double tokensPerReplica = tokens / dp;
        // TP with SP: per sublayer an all-gather and a reduce-scatter of h bf16 per token, 3 passes.
        double tpSeconds = tp == 1 ? 0 : tokensPerReplica * layersPerStage * 2 * 2 * h * 2 * 3 * (tp - 1) / tp / bytesPerSecondIntra;
        // EP: each token's k copies go out (dispatch) and come back (combine), 3 passes.
        double epBandwidth = ep > a.GpusPerNode ? bytesPerSecondInter : bytesPerSecondIntra;
        double epSeconds = ep == 1 || c.Moe is null ? 0
            : tokensPerReplica / tp * sparsePerStage * c.Moe.ExpertsPerToken * h * 2 * 2 * 3 * (ep - 1) / ep / epBandwidth;
        double gradientsPerGpu = full ? nonExpertPerGpu + expertPerGpu : state / a.LoraBytesPerParameter;
        double dpBandwidth = tp * pp >= a.GpusPerNode || dp > a.GpusPerNode ? bytesPerSecondInter : bytesPerSecondIntra;
        double dpSeconds = dp == 1 ? 0 : gradientsPerGpu * 4 * 2 * (dp - 1) / dp / dpBandwidth;
        double ppSeconds = pp == 1 ? 0 : microbatches * 2 * s * h * 2 / tp / bytesPerSecondInter;

        return new ParallelPlan
        {
            Tp = tp, Pp = pp, Ep = ep, Dp = dp, FullFineTuning = full,
            WeightBytes = weights, TrainingStateBytes = state, ActivationBytes = activations, LogitBytes = logits, RolloutKvBytes = kv,
            UsableBytes = r.GpuMemoryGb * (1L << 30) * a.UsableMemoryFraction,
            ComputeSeconds = compute, BubbleSeconds = bubble, TensorParallelSeconds = tpSeconds, ExpertParallelSeconds = epSeconds,
            DataParallelSeconds = dpSeconds, PipelineSeconds = ppSeconds,
        };
    }
}
