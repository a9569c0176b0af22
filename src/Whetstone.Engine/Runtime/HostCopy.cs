using static TorchSharp.torch;

namespace Whetstone.Engine.Runtime;

/// <summary>Reads a tensor's values into a managed array: one device-to-host copy for a GPU
/// tensor, none for a CPU one (its memory is read in place). Every result that leaves the engine
/// (chosen tokens, logprobs, losses) goes through here, once per step, never per token.</summary>
internal static class HostCopy
{
    public static T[] ToArray<T>(Tensor tensor) where T : unmanaged
    {
        if (tensor.device_type == TorchSharp.DeviceType.CPU) return tensor.data<T>().ToArray();
        using var host = tensor.cpu();
        return host.data<T>().ToArray();
    }
}
