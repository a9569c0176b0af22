using Whetstone.Engine.Formats;
using Whetstone.Engine.Training;

namespace Whetstone.Engine.Worker;

/// <summary>What a run can be asked to do besides learner passes and optimizer steps; executed
/// by the worker on its thread, in the run's order.</summary>
public abstract record RunOperation
{
    internal abstract object Execute(TrainingRun run);

    /// <summary>Writes the training state (weights and optimizer) to <paramref name="Directory"/>; result: <see cref="RunStep"/>.</summary>
    public sealed record SaveState(string Directory) : RunOperation
    {
        internal override object Execute(TrainingRun run)
        {
            TrainingCheckpoint.Save(run, Directory);
            return new RunStep(run.Step);
        }
    }

    /// <summary>Writes what a sampler needs: a LoRA run's adapter as PEFT files, or a full
    /// fine-tuning run's whole model in the dtype it computes in (so a session on it samples
    /// exactly the trained weights; the merged download rounds to bf16 for shipping).</summary>
    public sealed record SaveSamplerWeights(string Directory, string BaseModelName, string BaseModelDirectory) : RunOperation
    {
        internal override object Execute(TrainingRun run)
        {
            if (run.Adapter is { } adapter) PeftAdapter.Save(adapter, Directory, BaseModelName);
            else MergedModelWriter.WriteFullModel(BaseModelDirectory, run.Network, Directory, run.Network.Dtype);
            return new RunStep(run.Step);
        }
    }

    /// <summary>Loads a saved training state into the run; result: <see cref="RunStep"/> (the state's step).</summary>
    public sealed record LoadState(string Directory, bool WithOptimizer) : RunOperation
    {
        internal override object Execute(TrainingRun run)
        {
            TrainingCheckpoint.LoadInto(run, Directory, WithOptimizer);
            return new RunStep(run.Step);
        }
    }

    /// <summary>A reward model's values (and loss); with <paramref name="Backward"/> its gradient
    /// accumulates, and a failure halfway leaves no part of it behind. Result: <see cref="ValueResult"/>.</summary>
    public sealed record Values(ValueWork Work, bool Backward) : RunOperation
    {
        internal override object Execute(TrainingRun run)
        {
            if (!Backward) return run.ForwardValues(Work);
            var saved = run.CaptureGradients();
            try { return run.ForwardBackwardValues(Work); }
            catch { run.RestoreGradients(saved); throw; }
            finally { foreach (var g in saved) g?.Dispose(); }
        }
    }
}

/// <summary>A run's optimizer step count after an operation.</summary>
public sealed record RunStep(long Step);
