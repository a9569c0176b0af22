using Whetstone.Engine.Formats;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Hands each module its tensors by Hugging Face name, converted to the compute dtype.
/// Modules are built straight from the checkpoint: nothing is allocated twice.</summary>
internal sealed class WeightLoader(CheckpointTensors tensors, ScalarType dtype)
{
    public ScalarType Dtype => dtype;

    public TorchSharp.Modules.Parameter Parameter(string name, params long[] shape) =>
        new(tensors.Read(name, shape, dtype).DetachFromDisposeScope(), requires_grad: false);

    /// <summary>A parameter kept in its own dtype whatever the compute dtype (a router's bias).</summary>
    public TorchSharp.Modules.Parameter ParameterIn(string name, ScalarType type, params long[] shape) =>
        new(tensors.Read(name, shape, type).DetachFromDisposeScope(), requires_grad: false);

    public bool Contains(string name) => tensors.Contains(name);
}
