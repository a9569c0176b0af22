using Whetstone.Engine.Runtime;
using Whetstone.Service.Hosting;

namespace Whetstone.Cli.Commands;

/// <summary>The service core the recipe commands run their recipes against (through its in-memory
/// server, so recipes use the SDK exactly as against a remote server): their model directories,
/// a data directory under the command's output, the compute dtype and device from the command line.</summary>
internal static class InProcessService
{
    public static Task<ServiceCore> StartAsync(IEnumerable<string> modelDirectories, string outputDirectory, string dtype, TorchSharp.torch.Device device) =>
        ServiceCore.CreateAsync(new ServerOptions
        {
            ModelDirectories = modelDirectories.Select(Path.GetFullPath).ToArray(),
            DataDirectory = Path.Combine(outputDirectory, "service"),
            ComputeDtype = ComputeDtype.Parse(dtype, device),
            Device = device,
        });
}
