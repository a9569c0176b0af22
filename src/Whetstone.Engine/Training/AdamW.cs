using Whetstone.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Whetstone.Engine.Training;

/// <summary>AdamW over a fixed list of parameters, written out (rather than TorchSharp's
/// optimizer) so that its state — first and second moments and the step count — can be saved
/// and restored exactly, which makes a resumed run bit-identical to an uninterrupted one.
/// The update follows torch.optim.AdamW: decay, then the bias-corrected Adam step.
/// Half-precision parameters (bf16/f16 full fine-tuning) get an fp32 master copy that takes the
/// update and is rounded into the parameter afterwards: at learning rates like 1e-4 most updates
/// are smaller than a bf16 ulp of the weight and would otherwise be lost, which is why a bf16
/// model trained on its own weights learns far worse than the same model in fp32.</summary>
internal sealed class AdamW : IDisposable
{
    readonly IReadOnlyList<(string Name, Parameter Parameter)> _parameters;
    readonly Tensor?[] _masters;
    readonly Tensor[] _firstMoments;
    readonly Tensor[] _secondMoments;

    public long Step { get; private set; }
    public IReadOnlyList<(string Name, Parameter Parameter)> Parameters => _parameters;

    public AdamW(IReadOnlyList<(string Name, Parameter Parameter)> parameters)
    {
        _parameters = parameters;
        _masters = parameters.Select(p => IsHalfPrecision(p.Parameter.dtype)
            ? p.Parameter.detach().to(ScalarType.Float32).DetachFromDisposeScope()
            : null).ToArray();
        _firstMoments = parameters.Select((p, i) => zeros_like(_masters[i] ?? p.Parameter).DetachFromDisposeScope()).ToArray();
        _secondMoments = parameters.Select((p, i) => zeros_like(_masters[i] ?? p.Parameter).DetachFromDisposeScope()).ToArray();
    }

    static bool IsHalfPrecision(ScalarType dtype) => dtype is ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>The weights as the optimizer holds them: the fp32 master where there is one
    /// (what a checkpoint must store for a resume to continue bit for bit), else the parameter.</summary>
    public Tensor Weight(int index) => _masters[index] ?? _parameters[index].Parameter.detach();

    /// <summary>Sets a weight from stored values: the master (if any) keeps them at full
    /// precision, the parameter gets them rounded to its dtype.</summary>
    public void LoadWeight(int index, Tensor stored)
    {
        using var _ = no_grad();
        _masters[index]?.copy_(stored);
        _parameters[index].Parameter.copy_(stored);
    }

    /// <summary>√Σ‖g‖² over all parameters with a gradient (0 if none), summed in fp64 on the
    /// parameters' device and read back once (not once per parameter: each read waits for a GPU).</summary>
    public double GradientNorm()
    {
        using var scope = NewDisposeScope();
        var squares = _parameters.Where(p => p.Parameter.grad is not null)
            .Select(p => p.Parameter.grad!.to(ScalarType.Float64).pow(Scalars.Two).sum()).ToArray();
        return squares.Length == 0 ? 0 : Math.Sqrt(stack(squares).sum().item<double>());
    }

    /// <summary>One step; the caller has checked the gradients are finite. All or nothing: the
    /// new weights and moments of every parameter are computed into new tensors first, and only
    /// when all of them exist are they committed (the moments' and masters' tensors swapped in,
    /// the parameters overwritten in place, the step counted). A failure while computing — a
    /// gradient that does not fit its parameter, memory running out — leaves every weight, moment
    /// and the step count as they were (house rule: no partial optimizer step). The price is
    /// transient memory: up to three fp32 copies of the trainable weights during the step
    /// (small for LoRA; for full fine-tuning it adds to the step's peak).</summary>
    public void Apply(AdamParams hp, double gradientNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long step = Step + 1;
        double clip = hp.GradClipNorm > 0 && gradientNorm > hp.GradClipNorm ? hp.GradClipNorm / (gradientNorm + 1e-6) : 1.0;
        double biasCorrection1 = 1 - Math.Pow(hp.Beta1, step);
        double biasCorrection2 = 1 - Math.Pow(hp.Beta2, step);
        double stepSize = hp.LearningRate / biasCorrection1;
        // Every scalar operand is an explicit Scalar held until the end of the step. An implicit
        // double → Scalar conversion makes a temporary that nothing references once its native
        // handle is read, so a GC during the native call could run its finalizer and free it mid-op:
        // the 32-client load test saw exactly that once in 809 steps ("Expected false to be true"
        // from c10 Scalar::toFloat inside THSTensor_add_scalar_, an internal_error of optim_step;
        // TorchSharp 0.107 does not keep its Scalar arguments alive across its P/Invokes).
        using var clipBy = clip.ToScalar();
        using var decay = (1 - hp.LearningRate * hp.WeightDecay).ToScalar();
        using var beta1 = hp.Beta1.ToScalar();
        using var oneMinusBeta1 = (1 - hp.Beta1).ToScalar();
        using var beta2 = hp.Beta2.ToScalar();
        using var oneMinusBeta2 = (1 - hp.Beta2).ToScalar();
        using var correction2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var eps = hp.Eps.ToScalar();
        using var one = 1.0.ToScalar();   // add_(Scalar) would convert its default alpha of 1 implicitly
        using var negativeStepSize = (-stepSize).ToScalar();
        // The vision tower's parameters (visual.*) move at VisionLearningRateScale × the rate,
        // weight decay included (see AdamParams.VisionLearningRateScale for why).
        double visionScale = hp.VisionLearningRateScale;
        using var visionDecay = (1 - visionScale * hp.LearningRate * hp.WeightDecay).ToScalar();
        using var visionNegativeStepSize = (-visionScale * stepSize).ToScalar();

        // 1. Compute: new tensors only; nothing the optimizer or the model holds is written.
        // What is kept leaves the dispose scope; the rest (converted, clipped gradients,
        // denominators) is freed with it.
        var updates = new List<Update>(_parameters.Count);
        try
        {
            for (int i = 0; i < _parameters.Count; i++)
            {
                var parameter = _parameters[i].Parameter;
                if (parameter.grad is not Tensor g) continue;
                var p = _masters[i] ?? (Tensor)parameter;
                if (_masters[i] is not null) g = g.to(ScalarType.Float32);
                bool vision = IsVision(_parameters[i].Name);
                if (clip != 1.0) g = g.mul(clipBy);
                var update = new Update(i);
                updates.Add(update);
                update.First = _firstMoments[i].mul(beta1).add_(g, alpha: oneMinusBeta1).DetachFromDisposeScope();
                update.Second = _secondMoments[i].mul(beta2).addcmul_(g, g, value: oneMinusBeta2).DetachFromDisposeScope();
                var denominator = update.Second.sqrt().div_(correction2).add_(eps, one);
                var stepBy = vision ? visionNegativeStepSize : negativeStepSize;
                update.Weight = (hp.WeightDecay != 0
                    ? p.mul(vision ? visionDecay : decay).addcdiv_(update.First, denominator, value: stepBy)
                    : p.addcdiv(update.First, denominator, value: stepBy)).DetachFromDisposeScope();
            }
        }
        catch
        {
            foreach (var update in updates) update.Dispose();
            throw;
        }

        // 2. Commit: handle swaps and same-shape, same-dtype copies into existing storage, which
        // allocate nothing.
        foreach (var update in updates)
        {
            int i = update.Index;
            (_firstMoments[i], update.First) = (update.First!, _firstMoments[i]);
            (_secondMoments[i], update.Second) = (update.Second!, _secondMoments[i]);
            if (_masters[i] is not null) (_masters[i], update.Weight) = (update.Weight!, _masters[i]);
            _parameters[i].Parameter.copy_(_masters[i] ?? update.Weight!);
            update.Dispose();   // the replaced moments and master, or the new weight once copied
        }
        Step = step;
    }

    /// <summary>One parameter's computed step, or after the commit the tensors it replaced.</summary>
    sealed class Update(int index) : IDisposable
    {
        public int Index { get; } = index;
        public Tensor? First, Second, Weight;

        public void Dispose()
        {
            First?.Dispose();
            Second?.Dispose();
            Weight?.Dispose();
        }
    }

    /// <summary>The vision tower's parameters (and LoRA factors on them), which take
    /// <see cref="AdamParams.VisionLearningRateScale"/>.</summary>
    static bool IsVision(string name) => name.StartsWith(Models.Vision.VisionTower.Prefix + ".", StringComparison.Ordinal)
        || name.StartsWith("model." + Models.Vision.VisionTower.Prefix + ".", StringComparison.Ordinal);   // Qwen3-VL's tower

    public void ZeroGradients()
    {
        foreach (var (_, p) in _parameters)
            if (p.grad is Tensor g) { g.Dispose(); p.grad = null; }
    }

    public IEnumerable<KeyValuePair<string, Tensor>> State()
    {
        for (int i = 0; i < _parameters.Count; i++)
        {
            yield return new($"optimizer.exp_avg.{_parameters[i].Name}", _firstMoments[i]);
            yield return new($"optimizer.exp_avg_sq.{_parameters[i].Name}", _secondMoments[i]);
        }
    }

    public void Restore(long step, Func<string, Tensor> read)
    {
        using var _ = no_grad();
        for (int i = 0; i < _parameters.Count; i++)
        {
            using var first = read($"optimizer.exp_avg.{_parameters[i].Name}");
            using var second = read($"optimizer.exp_avg_sq.{_parameters[i].Name}");
            _firstMoments[i].copy_(first);
            _secondMoments[i].copy_(second);
        }
        Step = step;
    }

    public void Reset()
    {
        using var _ = no_grad();
        foreach (var m in _firstMoments) m.zero_();
        foreach (var v in _secondMoments) v.zero_();
        Step = 0;
    }

    public void Dispose()
    {
        foreach (var t in _masters) t?.Dispose();
        foreach (var t in _firstMoments) t.Dispose();
        foreach (var t in _secondMoments) t.Dispose();
    }
}
