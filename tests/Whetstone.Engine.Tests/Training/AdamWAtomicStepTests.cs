using TorchSharp.Modules;
using Whetstone.Engine.Training;
using static TorchSharp.torch;
using AdamW = Whetstone.Engine.Training.AdamW;

namespace Whetstone.Engine.Tests.Training;

/// <summary>An optimizer step is all or nothing: one that fails on its Nth parameter leaves every
/// weight (and fp32 master), both moments and the step count bit for bit as they were, and the
/// retried step lands exactly where a step that never failed does.</summary>
public sealed class AdamWAtomicStepTests
{
    // Plain, vision-tower (its own rate) and half-precision (fp32 master) parameters.
    static readonly (string Name, long[] Shape, ScalarType Dtype)[] Layout =
    [
        ("a", [3, 4], ScalarType.Float32),
        ("visual.b", [5], ScalarType.Float32),
        ("c", [2, 2], ScalarType.BFloat16),
        ("d", [6], ScalarType.Float32),
    ];

    static readonly AdamParams Hp = new()
    {
        LearningRate = 1e-2, WeightDecay = 0.1, GradClipNorm = 0.5, VisionLearningRateScale = 0.5,
    };

    static List<(string, Parameter)> Parameters()
    {
        var generator = new TorchSharp.torch.Generator(17);
        return Layout.Select(l => (l.Name, new Parameter(randn(l.Shape, generator: generator).to(l.Dtype)))).ToList();
    }

    static void SetGradients(List<(string Name, Parameter Parameter)> parameters, int seed, int? wrongShapeAt = null)
    {
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i].Parameter;
            p.grad?.Dispose();
            // A gradient one element longer than its parameter: the step fails on that parameter.
            long[] shape = i == wrongShapeAt ? [p.NumberOfElements + 1] : p.shape;
            p.grad = randn(shape, generator: generator).to(p.dtype).DetachFromDisposeScope();
        }
    }

    /// <summary>Everything the optimizer's state is made of, as fp64 values (exact for fp32 and bf16).</summary>
    static List<double[]> Snapshot(AdamW adam)
    {
        var values = new List<double[]>();
        for (int i = 0; i < adam.Parameters.Count; i++)
        {
            values.Add(adam.Parameters[i].Parameter.detach().to(ScalarType.Float64).data<double>().ToArray());
            values.Add(adam.Weight(i).to(ScalarType.Float64).data<double>().ToArray());
        }
        foreach (var (_, tensor) in adam.State()) values.Add(tensor.to(ScalarType.Float64).data<double>().ToArray());
        values.Add([adam.Step]);
        return values;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AStepThatFailsOnTheNthParameterChangesNothing(int failingParameter)
    {
        using var scope = NewDisposeScope();
        var parameters = Parameters();
        using var adam = new AdamW(parameters);
        SetGradients(parameters, seed: 1);
        adam.Apply(Hp, adam.GradientNorm());   // moments and step no longer zero
        var before = Snapshot(adam);

        SetGradients(parameters, seed: 2, wrongShapeAt: failingParameter);
        Assert.ThrowsAny<Exception>(() => adam.Apply(Hp, adam.GradientNorm()));

        var after = Snapshot(adam);
        Assert.Equal(before.Count, after.Count);
        for (int k = 0; k < before.Count; k++) Assert.Equal(before[k], after[k]);
        Assert.Equal(1, adam.Step);

        // Retried with good gradients, the step lands where a run that never failed lands.
        SetGradients(parameters, seed: 2);
        adam.Apply(Hp, adam.GradientNorm());
        var twinParameters = Parameters();
        using var twin = new AdamW(twinParameters);
        SetGradients(twinParameters, seed: 1);
        twin.Apply(Hp, twin.GradientNorm());
        SetGradients(twinParameters, seed: 2);
        twin.Apply(Hp, twin.GradientNorm());
        var retried = Snapshot(adam);
        var expected = Snapshot(twin);
        for (int k = 0; k < expected.Count; k++) Assert.Equal(expected[k], retried[k]);
        Assert.Equal(2, adam.Step);
        // And the step moved the weights (the comparison above is not of two untouched states).
        Assert.NotEqual(before[0], retried[0]);
    }
}
