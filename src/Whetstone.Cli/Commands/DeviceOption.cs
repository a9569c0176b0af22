using System.CommandLine;
using Whetstone.Engine.Runtime;
using static TorchSharp.torch;

namespace Whetstone.Cli.Commands;

/// <summary>--device for every command that computes with a model: auto, cpu, cuda or cuda:N.
/// Resolved before any model is loaded, so asking for CUDA where there is none fails at once with
/// a message naming the flag (exit code 2), not at the first tensor.</summary>
internal static class DeviceOption
{
    public const string Name = "--device";

    public static Option<string> Create() => new(Name)
    {
        Description = $"Where the model computes: {ComputeDevice.Choices} (auto: CUDA when libtorch finds a GPU; needs the -p:TorchBackend=cuda build)",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>The device, or an ArgumentException naming --device.</summary>
    public static Device Resolve(ParseResult result, Option<string> option) => ComputeDevice.Parse(result.GetValue(option)!, Name);
}
