using Whetstone.Engine.Formats;
using Whetstone.Engine.Runtime;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Hands each module its tensors by Hugging Face name, converted to the compute dtype
/// and placed on the model's device. Modules are built straight from the checkpoint: on the CPU
/// nothing is allocated twice; for a GPU each tensor is read and converted in host memory, copied
/// over once, and its host copy freed before the next is read.</summary>
internal sealed class WeightLoader(CheckpointTensors tensors, ScalarType dtype, Device device)
{
    public ScalarType Dtype => dtype;
    public Device Device => device;

    public TorchSharp.Modules.Parameter Parameter(string name, params long[] shape)
    {
        var host = tensors.Read(name, shape, dtype);
        if (ComputeDevice.IsCpu(device)) return new(host.DetachFromDisposeScope(), requires_grad: false);
        var placed = host.to(device).DetachFromDisposeScope();
        host.Dispose();
        return new(placed, requires_grad: false);
    }

    /// <summary>A parameter kept in its own dtype whatever the compute dtype (a router's bias).</summary>
    public TorchSharp.Modules.Parameter ParameterIn(string name, ScalarType type, params long[] shape) =>
        new(tensors.Read(name, shape, type).DetachFromDisposeScope(), requires_grad: false);

    public bool Contains(string name) => tensors.Contains(name);
}
