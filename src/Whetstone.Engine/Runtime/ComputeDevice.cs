using System.Globalization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Runtime;

/// <summary>Chooses the device every tensor of a model lives on: "auto" (CUDA when libtorch
/// reports it, else the CPU), "cpu", "cuda" or "cuda:N". Asking for CUDA where libtorch has none
/// (the TorchSharp-cpu build, or no driver or GPU) is refused here, at start-up, naming the
/// option, rather than at the first tensor deep inside a request.</summary>
public static class ComputeDevice
{
    /// <summary>The choices, as the options' help text names them.</summary>
    public const string Choices = "auto, cpu, cuda or cuda:N";

    /// <summary>Parses <paramref name="name"/>; <paramref name="option"/> names the setting in errors
    /// (the command line's --device, the service's Device).</summary>
    public static Device Parse(string name, string option = "--device") =>
        Parse(name, option, cuda.is_available, cuda.device_count);

    /// <summary>Same, with CUDA's presence given (tests of the refusal on a machine that has a GPU).</summary>
    internal static Device Parse(string name, string option, Func<bool> cudaAvailable, Func<int> cudaDevices)
    {
        var text = name.Trim().ToLowerInvariant();
        if (text == "cpu") return CPU;
        if (text == "auto") return cudaAvailable() ? new Device(TorchSharp.DeviceType.CUDA, 0) : CPU;
        if (text != "cuda" && !text.StartsWith("cuda:", StringComparison.Ordinal))
            throw new ArgumentException($"{option} '{name}' is not one of {Choices}");
        int index = 0;
        if (text.Length > 4 && (!int.TryParse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out index)))
            throw new ArgumentException($"{option} '{name}': the CUDA device index must be a whole number (cuda:0, cuda:1, …)");
        if (!cudaAvailable())
            throw new ArgumentException($"{option} '{name}': CUDA is not available here (this build's libtorch is TorchSharp-cpu, " +
                "or no NVIDIA GPU and driver were found); build with -p:TorchBackend=cuda on a GPU machine, or use cpu");
        int count = cudaDevices();
        if (index >= count)
            throw new ArgumentException($"{option} '{name}': device index {index} is past the last of the {count} CUDA device(s) (cuda:0 to cuda:{count - 1})");
        return new Device(TorchSharp.DeviceType.CUDA, index);
    }

    /// <summary>Whether tensors on <paramref name="device"/> live in host memory (the CPU decode kernels' condition).</summary>
    public static bool IsCpu(Device device) => device.type == TorchSharp.DeviceType.CPU;

    /// <summary>"cpu", "cuda:0", "meta": how logs and results name a device.</summary>
    public static string Name(Device device) => device.type switch
    {
        TorchSharp.DeviceType.CPU => "cpu",
        TorchSharp.DeviceType.CUDA => $"cuda:{Math.Max(0, device.index)}",
        var other => other.ToString().ToLowerInvariant(),
    };
}
