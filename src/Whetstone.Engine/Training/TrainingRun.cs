using TorchSharp.Modules;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Training;

/// <summary>One training run, Tinker's TrainingClient on the engine side: a LoRA adapter on a
/// shared frozen network, or (full fine-tuning) a network of its own with every parameter
/// trainable. Gradients accumulate over forward_backward calls until optim_step, which applies
/// AdamW and clears them. Calls must come from one thread at a time (the scheduler's).</summary>
public sealed class TrainingRun : IDisposable
{
    readonly AdamW _optimizer;

    public CausalLanguageModel Network { get; }
    /// <summary>Null for full fine-tuning.</summary>
    public LoraAdapter? Adapter { get; }
    public bool IsFullFineTuning => Adapter is null;
    public long Step => _optimizer.Step;
    internal AdamW Optimizer => _optimizer;

    TrainingRun(CausalLanguageModel network, LoraAdapter? adapter, IReadOnlyList<(string, Parameter)> trainable)
    {
        Network = network;
        Adapter = adapter;
        _optimizer = new AdamW(trainable);
    }

    /// <summary>A LoRA run on a network that other runs may share; the network stays frozen.</summary>
    public static TrainingRun CreateLora(CausalLanguageModel network, LoraConfig config)
    {
        var adapter = LoraAdapter.Create(network.LoraTargets(), config, AdapterDtype(network), network.Config.HiddenSize, network.Device);
        return new TrainingRun(network, adapter, adapter.NamedParameters().ToList());
    }

    /// <summary>A LoRA run continuing from given factors (a checkpoint or an imported PEFT adapter).</summary>
    public static TrainingRun FromAdapter(CausalLanguageModel network, LoraAdapter adapter) =>
        new(network, adapter, adapter.NamedParameters().ToList());

    /// <summary>Full fine-tuning: the run owns <paramref name="network"/> (load a copy for it) and
    /// trains every parameter.</summary>
    public static TrainingRun CreateFull(CausalLanguageModel network)
    {
        var parameters = network.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        foreach (var (_, p) in parameters) p.requires_grad_(true);
        return new TrainingRun(network, null, parameters);
    }

    /// <summary>fp64 networks (gradient checks) get fp64 adapters; otherwise adapters train in fp32.</summary>
    static ScalarType AdapterDtype(CausalLanguageModel network) =>
        network.Dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    public LearnerResult Forward(IReadOnlyList<Datum> data, LossSpec loss) =>
        LearnerPass.Run(Network, [new LearnerWork(Adapter, data) { Loss = loss }], backward: false)[0];

    public LearnerResult ForwardBackward(IReadOnlyList<Datum> data, LossSpec loss) =>
        LearnerPass.Run(Network, [new LearnerWork(Adapter, data) { Loss = loss }], backward: true)[0];

    /// <summary>Custom loss: the caller computed dL/dlogp from the logprobs of a forward pass.</summary>
    public LearnerResult ForwardBackwardCustom(IReadOnlyList<Datum> data, IReadOnlyList<IReadOnlyList<float>> logprobGradients) =>
        LearnerPass.Run(Network, [new LearnerWork(Adapter, data) { LogprobGradients = logprobGradients }], backward: true)[0];

    /// <summary>A reward model's values (and, with a loss, its loss) without gradients.</summary>
    public ValueResult ForwardValues(ValueWork work) =>
        ValuePass.Run(Network, Adapter ?? throw new TrainingArgumentException("value_head", "needs a LoRA run"), work, backward: false);

    /// <summary>Accumulates a value loss's gradient into the adapter and its head.</summary>
    public ValueResult ForwardBackwardValues(ValueWork work) =>
        ValuePass.Run(Network, Adapter ?? throw new TrainingArgumentException("value_head", "needs a LoRA run"), work, backward: true);

    /// <summary>Applies AdamW to the accumulated gradients and clears them. Non-finite gradients
    /// refuse the step: weights, moments and the step count stay as they were (the unusable
    /// gradients are dropped).</summary>
    public OptimStepResult OptimStep(AdamParams parameters)
    {
        parameters.Validate();
        double norm = _optimizer.GradientNorm();
        if (!double.IsFinite(norm))
        {
            _optimizer.ZeroGradients();
            throw new NonFiniteGradientException(norm);
        }
        _optimizer.Apply(parameters, norm);
        _optimizer.ZeroGradients();
        return new OptimStepResult(Step, norm);
    }

    public void ZeroGradients() => _optimizer.ZeroGradients();

    /// <summary>A copy of the accumulated gradients, to put back if a pass fails halfway
    /// (a backward pass in chunks adds to the gradients chunk by chunk).</summary>
    public IReadOnlyList<Tensor?> CaptureGradients() =>
        _optimizer.Parameters.Select(p => p.Parameter.grad is Tensor g ? g.detach().clone().DetachFromDisposeScope() : null).ToArray();

    public void RestoreGradients(IReadOnlyList<Tensor?> captured)
    {
        using var _ = no_grad();
        var parameters = _optimizer.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i].Parameter;
            p.grad?.Dispose();
            p.grad = captured[i]?.clone().DetachFromDisposeScope();
        }
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        Adapter?.Dispose();
    }
}

public sealed record OptimStepResult(long Step, double GradientNorm);

public sealed class NonFiniteGradientException(double norm)
    : InvalidOperationException($"gradient norm is {norm}: the step was refused and weights and optimizer state are unchanged")
{
    public double Norm { get; } = norm;
}
