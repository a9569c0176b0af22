using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Whetstone.Engine.Training;

/// <summary>AdamW over a fixed list of parameters, written out (rather than TorchSharp's
/// optimizer) so that its state — first and second moments and the step count — can be saved
/// and restored exactly, which makes a resumed run bit-identical to an uninterrupted one.
/// The update follows torch.optim.AdamW: decay, then the bias-corrected Adam step.</summary>
internal sealed class AdamW : IDisposable
{
    readonly IReadOnlyList<(string Name, Parameter Parameter)> _parameters;
    readonly Tensor[] _firstMoments;
    readonly Tensor[] _secondMoments;

    public long Step { get; private set; }
    public IReadOnlyList<(string Name, Parameter Parameter)> Parameters => _parameters;

    public AdamW(IReadOnlyList<(string Name, Parameter Parameter)> parameters)
    {
        _parameters = parameters;
        _firstMoments = parameters.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray();
        _secondMoments = parameters.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>√Σ‖g‖² over all parameters with a gradient (0 if none).</summary>
    public double GradientNorm()
    {
        using var scope = NewDisposeScope();
        double sum = 0;
        foreach (var (_, p) in _parameters)
            if (p.grad is Tensor g) sum += g.to(ScalarType.Float64).pow(2).sum().item<double>();
        return Math.Sqrt(sum);
    }

    /// <summary>One step; the caller has checked the gradients are finite.</summary>
    public void Apply(AdamParams hp, double gradientNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Step++;
        double clip = hp.GradClipNorm > 0 && gradientNorm > hp.GradClipNorm ? hp.GradClipNorm / (gradientNorm + 1e-6) : 1.0;
        double biasCorrection1 = 1 - Math.Pow(hp.Beta1, Step);
        double biasCorrection2 = 1 - Math.Pow(hp.Beta2, Step);
        double stepSize = hp.LearningRate / biasCorrection1;
        for (int i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters[i].Parameter;
            if (p.grad is not Tensor g) continue;
            if (clip != 1.0) g = g * clip;
            if (hp.WeightDecay != 0) p.mul_(1 - hp.LearningRate * hp.WeightDecay);
            _firstMoments[i].mul_(hp.Beta1).add_(g, alpha: 1 - hp.Beta1);
            _secondMoments[i].mul_(hp.Beta2).addcmul_(g, g, value: 1 - hp.Beta2);
            var denominator = (_secondMoments[i].sqrt() / Math.Sqrt(biasCorrection2)).add_(hp.Eps);
            p.addcdiv_(_firstMoments[i], denominator, value: -stepSize);
        }
    }

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
        foreach (var t in _firstMoments) t.Dispose();
        foreach (var t in _secondMoments) t.Dispose();
    }
}
