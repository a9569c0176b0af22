using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats;

/// <summary>Raw access to a CPU tensor's storage, for copying file bytes in and out without an
/// intermediate managed array. TorchSharp exposes this only as an int-sized Span, which cannot
/// address tensors over 2 GiB, so we ask LibTorchSharp for the pointer directly.</summary>
internal static partial class TensorMemory
{
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);

    public static IntPtr DataPointer(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU) throw new ArgumentException("tensor must be on the CPU");
        if (!tensor.is_contiguous()) throw new ArgumentException("tensor must be contiguous");
        var pointer = THSTensor_data(tensor.Handle);
        if (pointer == IntPtr.Zero && tensor.numel() > 0) CheckForErrors();
        return pointer;
    }

    static void CheckForErrors() => throw new InvalidOperationException("LibTorchSharp returned no data pointer for the tensor");
}
