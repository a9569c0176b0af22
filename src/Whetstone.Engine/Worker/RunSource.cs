using Whetstone.Engine.Lora;

namespace Whetstone.Engine.Worker;

/// <summary>Where a new run's weights come from.</summary>
public abstract record RunSource
{
    /// <summary>A fresh LoRA adapter on the shared base network.</summary>
    public sealed record NewLora(LoraConfig Config) : RunSource;
    /// <summary>Full fine-tuning: a private copy of the base model, every weight trainable.</summary>
    public sealed record NewFull : RunSource;
    /// <summary>A saved training state (a weights checkpoint) of a LoRA or a full run.</summary>
    public sealed record SavedState(string Directory, bool FullFineTuning, bool WithOptimizer) : RunSource;
    /// <summary>A PEFT adapter directory (imported): a LoRA run continuing from its factors.</summary>
    public sealed record PeftDirectory(string Directory) : RunSource;
}

/// <summary>A run as the worker created it: its step and (LoRA) its adapter's config.</summary>
public sealed record RunInfo(long Step, LoraConfig? LoraConfig, bool HasValueHead);
