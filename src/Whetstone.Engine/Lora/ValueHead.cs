using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Whetstone.Engine.Lora;

/// <summary>A scalar head on the final hidden state, trained with a LoRA adapter to make a
/// reward model on the same base: value = w · h + b at a sequence's last token. Causal attention
/// means the last token's state has read the whole sequence (prompt and response), which is
/// why it, and not a pooled state, is scored.</summary>
public sealed class ValueHead : IDisposable
{
    public const string WeightName = "value_head.weight";
    public const string BiasName = "value_head.bias";

    public Parameter Weight { get; }   // [hidden]
    public Parameter Bias { get; }     // [1]

    ValueHead(Tensor weight, Tensor bias)
    {
        Weight = new Parameter(weight.DetachFromDisposeScope(), requires_grad: true);
        Bias = new Parameter(bias.DetachFromDisposeScope(), requires_grad: true);
    }

    /// <summary>w ~ U(−1/√hidden, 1/√hidden) as nn.Linear initialises, b = 0: a zero w would
    /// leave the adapter without gradient on the first step (dL/dh = dL/dv · w).</summary>
    public static ValueHead Create(long hiddenSize, long seed, ScalarType dtype, Device? device = null)
    {
        var generator = new Generator((ulong)seed ^ 0x5eed_0f_7a1e);
        double bound = 1.0 / Math.Sqrt(hiddenSize);
        device ??= CPU;
        using var raw = rand([hiddenSize], generator: generator, dtype: ScalarType.Float64, device: CPU);   // drawn on the CPU: one seed, one head on every device
        return new ValueHead(((raw * 2 - 1) * bound).to(dtype, device), zeros([1], dtype, device: device));
    }

    public static ValueHead FromTensors(Tensor weight, Tensor bias, long hiddenSize, Device? device = null)
    {
        if (!weight.shape.SequenceEqual([hiddenSize]) || !bias.shape.SequenceEqual([1L]))
            throw new InvalidDataException($"value head has shapes weight [{string.Join(", ", weight.shape)}], bias [{string.Join(", ", bias.shape)}], expected weight [{hiddenSize}], bias [1]");
        return new ValueHead(LoraAdapter.Place(weight, device), LoraAdapter.Place(bias, device));
    }

    /// <summary>[n, hidden] → [n]; computed in the head's dtype (fp32, or fp64 for gradient checks).</summary>
    public Tensor Score(Tensor lastHidden) => lastHidden.to(Weight.dtype).matmul(Weight) + Bias;

    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        yield return (WeightName, Weight);
        yield return (BiasName, Bias);
    }

    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
    }
}
