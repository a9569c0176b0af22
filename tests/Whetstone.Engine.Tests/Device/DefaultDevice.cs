using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Device;

/// <summary>Tests that change libtorch's process-wide default device run alone: no other test may
/// create tensors while the default is not the CPU.</summary>
[CollectionDefinition(nameof(DefaultDeviceCollection), DisableParallelization = true)]
public sealed class DefaultDeviceCollection;

internal static class DefaultDevice
{
    public static readonly TorchSharp.torch.Device Meta = new(TorchSharp.DeviceType.META);

    /// <summary>Runs <paramref name="action"/> with every device-less tensor factory making meta
    /// tensors (shape only, no data), then puts the default back.</summary>
    public static T With<T>(TorchSharp.torch.Device device, Func<T> action)
    {
        var before = get_default_device();
        set_default_device(device);
        try { return action(); }
        finally { set_default_device(before); }
    }
}
