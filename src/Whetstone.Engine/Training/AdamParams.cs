namespace Whetstone.Engine.Training;

/// <summary>Tinker's AdamParams with its defaults: AdamW with decoupled weight decay, gradient
/// clipping by global norm when grad_clip_norm > 0. One addition (not in Tinker):
/// <see cref="VisionLearningRateScale"/>, the vision tower's own learning rate as a fraction.</summary>
public sealed record AdamParams
{
    public double LearningRate { get; init; } = 1e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Eps { get; init; } = 1e-12;
    public double WeightDecay { get; init; }
    public double GradClipNorm { get; init; }
    /// <summary>Multiplies the learning rate (and so the weight decay) of every trainable
    /// parameter under "visual." — the tower, its merger, and LoRA factors on them — as VLM
    /// recipes give the tower its own, lower rate. Why it matters: Adam moves every weight by
    /// about lr per step, so a layer whose inputs are large and alike everywhere (the patch
    /// embedding sees 1176 values near +2 on every white patch) grows its common response by
    /// ≈ lr·‖x‖₁ per step; from scratch at an LM's rate that background swamps the features
    /// that tell pictures apart (VisionTowerLearningRateTests). 1 = the step's own rate.</summary>
    public double VisionLearningRateScale { get; init; } = 1;

    public void Validate()
    {
        static bool Finite(double x) => !double.IsNaN(x) && !double.IsInfinity(x);
        if (!Finite(LearningRate) || LearningRate < 0) throw new TrainingArgumentException("adam_params.learning_rate", $"= {LearningRate} must be finite and ≥ 0");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new TrainingArgumentException("adam_params.beta1", $"= {Beta1} must be in [0, 1)");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new TrainingArgumentException("adam_params.beta2", $"= {Beta2} must be in [0, 1)");
        if (!Finite(Eps) || Eps < 0) throw new TrainingArgumentException("adam_params.eps", $"= {Eps} must be finite and ≥ 0");
        if (!Finite(WeightDecay) || WeightDecay < 0) throw new TrainingArgumentException("adam_params.weight_decay", $"= {WeightDecay} must be finite and ≥ 0");
        if (!Finite(VisionLearningRateScale) || VisionLearningRateScale < 0) throw new TrainingArgumentException("adam_params.vision_learning_rate_scale", $"= {VisionLearningRateScale} must be finite and ≥ 0 (1 = the step's learning rate)");
        if (!Finite(GradClipNorm) || GradClipNorm < 0) throw new TrainingArgumentException("adam_params.grad_clip_norm", $"= {GradClipNorm} must be finite and ≥ 0 (0 = off)");
    }
}
