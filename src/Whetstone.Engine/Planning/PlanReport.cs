using System.Globalization;

namespace Whetstone.Engine.Planning;

/// <summary>The planner's answer as text: counts, the chosen plan's memory and time, the
/// comparison with full fine-tuning, and the assumptions.</summary>
public static class PlanReport
{
    static string B(double bytes) => (bytes / (1L << 30)).ToString("F1", CultureInfo.InvariantCulture) + " GiB";
    static string P(long parameters) => (parameters / 1e9).ToString("F2", CultureInfo.InvariantCulture) + "B";

    public static IEnumerable<string> Lines(PlanRequest r)
    {
        var c = r.Config;
        var f = ModelFootprint.Of(c);
        yield return $"model: {c.ModelTypeName ?? c.Family.ToString()}, {c.NumHiddenLayers} layers ({f.SparseLayers} MoE), hidden {c.HiddenSize}";
        yield return $"parameters: total {P(f.Total)}, active per token {P(f.ActivePerToken)} (routed experts {P(f.RoutedExpertTotal)}, the rest {P(f.NonExpertTotal)})";
        if (r.LoraRank > 0)
            yield return $"LoRA rank {r.LoraRank}: {P(ModelFootprint.LoraParameters(c, r.LoraRank, r.LoraOnExperts))} trainable ({(r.LoraOnExperts ? "attention + MLPs + every expert" : "attention only")}); attention only would be {P(ModelFootprint.LoraParameters(c, r.LoraRank, false))}";
        yield return $"step: {r.Batch} sequences × {r.SeqLen} tokens on {r.Gpus} × {r.GpuMemoryGb} GiB, base weights {(r.Fp8Weights && r.LoraRank > 0 ? "fp8" : "bf16")}";
        yield return "";
        foreach (var line in Describe(r.LoraRank > 0 ? "LoRA RL" : "full fine-tuning", ParallelismPlanner.Best(r), r)) yield return line;
        if (r.LoraRank > 0)
        {
            yield return "";
            var fullRequest = r with { LoraRank = 0, Fp8Weights = false };
            foreach (var line in Describe($"full fine-tuning on the same {r.Gpus} GPUs", ParallelismPlanner.Best(fullRequest), fullRequest)) yield return line;
            var smallest = ParallelismPlanner.SmallestFit(fullRequest);
            yield return smallest is { } s
                ? $"full fine-tuning needs at least {s.Gpus} GPUs (TP {s.Plan.Tp}, PP {s.Plan.Pp}, EP {s.Plan.Ep}, DP {s.Plan.Dp}; {B(s.Plan.TrainingPhaseBytes)} per GPU; step {s.Plan.StepSeconds:F0} s)"
                : "full fine-tuning does not fit on up to 8192 GPUs";
            var loraSmallest = ParallelismPlanner.SmallestFit(r);
            if (loraSmallest is { } l) yield return $"LoRA RL needs at least {l.Gpus} GPUs (TP {l.Plan.Tp}, PP {l.Plan.Pp}, EP {l.Plan.Ep}, DP {l.Plan.Dp})";
        }
        yield return "";
        yield return "assumptions:";
        foreach (var line in r.Assumptions.Lines()) yield return "  - " + line;
    }

    static IEnumerable<string> Describe(string title, ParallelPlan? plan, PlanRequest r)
    {
        if (plan is null)
        {
            var closest = ParallelismPlanner.Candidates(r).OrderBy(p => Math.Max(p.TrainingPhaseBytes, p.SamplingPhaseBytes)).FirstOrDefault();
            yield return $"{title}: does NOT fit" + (closest is null ? "" : $" (smallest layout TP {closest.Tp} PP {closest.Pp} EP {closest.Ep} DP {closest.Dp} needs {B(closest.TrainingPhaseBytes)} training, {B(closest.SamplingPhaseBytes)} sampling, of {B(closest.UsableBytes)} usable)");
            yield break;
        }
        yield return $"{title}: fits — TP {plan.Tp}{(plan.SequenceParallel ? " + SP" : "")}, PP {plan.Pp}, EP {plan.Ep}, DP {plan.Dp}";
        yield return $"  memory per GPU (training): weights {B(plan.WeightBytes)} + {(plan.FullFineTuning ? "grads + optimizer" : "adapters + grads + Adam")} {B(plan.TrainingStateBytes)} + activations {B(plan.ActivationBytes)} + logits {B(plan.LogitBytes)} = {B(plan.TrainingPhaseBytes)} of {B(plan.UsableBytes)}";
        yield return $"  memory per GPU (sampling): weights {B(plan.WeightBytes)} + rollout KV cache {B(plan.RolloutKvBytes)} = {B(plan.SamplingPhaseBytes)}";
        yield return $"  step time {plan.StepSeconds:F1} s: compute {plan.ComputeSeconds:F1} + bubble {plan.BubbleSeconds:F1} + TP {plan.TensorParallelSeconds:F1} + EP {plan.ExpertParallelSeconds:F1} + DP {plan.DataParallelSeconds:F1} + PP {plan.PipelineSeconds:F1}";
    }
}
