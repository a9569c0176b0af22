namespace Whetstone.Engine.Planning;

/// <summary>One way to lay a model over GPUs: tensor (TP, with sequence parallelism when > 1),
/// pipeline (PP), expert (EP, folded over the TP × DP ranks) and data (DP) parallel degrees, with
/// the memory and step time the planner estimates for it. Bytes and seconds.</summary>
public sealed record ParallelPlan
{
    public required int Tp { get; init; }
    public required int Pp { get; init; }
    public required int Ep { get; init; }
    public required int Dp { get; init; }
    public bool SequenceParallel => Tp > 1;
    public required bool FullFineTuning { get; init; }

    public required double WeightBytes { get; init; }
    public required double TrainingStateBytes { get; init; }   // adapters or full: grads + optimizer
    public required double ActivationBytes { get; init; }
    public required double LogitBytes { get; init; }
    public required double RolloutKvBytes { get; init; }
    public required double UsableBytes { get; init; }

    public double TrainingPhaseBytes => WeightBytes + TrainingStateBytes + ActivationBytes + LogitBytes;
    public double SamplingPhaseBytes => WeightBytes + RolloutKvBytes;
    public bool Fits => TrainingPhaseBytes <= UsableBytes && SamplingPhaseBytes <= UsableBytes;

    public required double ComputeSeconds { get; init; }
    public required double BubbleSeconds { get; init; }
    public required double TensorParallelSeconds { get; init; }
    public required double ExpertParallelSeconds { get; init; }
    public required double DataParallelSeconds { get; init; }
    public required double PipelineSeconds { get; init; }
    public double StepSeconds => ComputeSeconds + BubbleSeconds + TensorParallelSeconds + ExpertParallelSeconds + DataParallelSeconds + PipelineSeconds;

    public int Gpus => Tp * Pp * Dp;
}
