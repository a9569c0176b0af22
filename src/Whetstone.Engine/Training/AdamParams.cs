namespace Whetstone.Engine.Training;

/// <summary>Tinker's AdamParams with its defaults: AdamW with decoupled weight decay, gradient
/// clipping by global norm when grad_clip_norm > 0.</summary>
public sealed record AdamParams
{
    public double LearningRate { get; init; } = 1e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Eps { get; init; } = 1e-12;
    public double WeightDecay { get; init; }
    public double GradClipNorm { get; init; }

    public void Validate()
    {
        static bool Finite(double x) => !double.IsNaN(x) && !double.IsInfinity(x);
        if (!Finite(LearningRate) || LearningRate < 0) throw new TrainingArgumentException("adam_params.learning_rate", $"= {LearningRate} must be finite and ≥ 0");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new TrainingArgumentException("adam_params.beta1", $"= {Beta1} must be in [0, 1)");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new TrainingArgumentException("adam_params.beta2", $"= {Beta2} must be in [0, 1)");
        if (!Finite(Eps) || Eps < 0) throw new TrainingArgumentException("adam_params.eps", $"= {Eps} must be finite and ≥ 0");
        if (!Finite(WeightDecay) || WeightDecay < 0) throw new TrainingArgumentException("adam_params.weight_decay", $"= {WeightDecay} must be finite and ≥ 0");
        if (!Finite(GradClipNorm) || GradClipNorm < 0) throw new TrainingArgumentException("adam_params.grad_clip_norm", $"= {GradClipNorm} must be finite and ≥ 0 (0 = off)");
    }
}
