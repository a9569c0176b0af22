using System.Diagnostics;
using System.Text.Json;

namespace Whetstone.Engine.Tests.Device;

/// <summary>The one build switch (issue #21): -p:TorchBackend=cuda makes the engine reference
/// TorchSharp's CUDA package at the CPU package's version and turns off the CPU library's GLIBCXX
/// patch. The CUDA package is not served here, so this evaluates the MSBuild logic (no restore).</summary>
public class TorchBackendSwitchTests
{
    static (string Package, string FixNative, List<(string Id, string? Version)> References) Evaluate(string? backend)
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Whetstone.slnx"))) root = Path.GetDirectoryName(root)!;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root,
            ArgumentList = { "msbuild", "src/Whetstone.Engine/Whetstone.Engine.csproj", "-nologo",
                "-getProperty:TorchSharpPackage", "-getProperty:WhetstoneFixTorchSharpNative", "-getItem:PackageReference", "-getItem:PackageVersion" },
        };
        if (backend is not null) start.ArgumentList.Add($"-p:TorchBackend={backend}");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, output + process.StandardError.ReadToEnd());
        using var json = JsonDocument.Parse(output);
        // A reference's version comes from the central PackageVersion of the same name.
        var items = json.RootElement.GetProperty("Items");
        var versions = items.GetProperty("PackageVersion").EnumerateArray()
            .ToDictionary(v => v.GetProperty("Identity").GetString()!, v => v.GetProperty("Version").GetString());
        var references = items.GetProperty("PackageReference").EnumerateArray()
            .Select(r => r.GetProperty("Identity").GetString()!).Select(id => (id, versions.GetValueOrDefault(id))).ToList();
        var properties = json.RootElement.GetProperty("Properties");
        return (properties.GetProperty("TorchSharpPackage").GetString()!, properties.GetProperty("WhetstoneFixTorchSharpNative").GetString()!, references);
    }

    [Fact]
    public void CudaSwapsThePackageAtTheSameVersionAndSkipsTheCpuPatch()
    {
        var cpu = Evaluate(null);
        var cuda = Evaluate("cuda");
        Assert.Equal("TorchSharp-cpu", cpu.Package);
        Assert.Equal("true", cpu.FixNative, ignoreCase: true);
        Assert.Contains(cpu.References, r => r.Id == "TorchSharp-cpu");

        Assert.Equal(OperatingSystem.IsWindows() ? "TorchSharp-cuda-windows" : "TorchSharp-cuda-linux", cuda.Package);
        Assert.Equal("false", cuda.FixNative, ignoreCase: true);
        Assert.Contains(cuda.References, r => r.Id == cuda.Package);
        Assert.DoesNotContain(cuda.References, r => r.Id == "TorchSharp-cpu");
        // Central package management gives both the same version.
        Assert.Equal(cpu.References.Single(r => r.Id == "TorchSharp-cpu").Version, cuda.References.Single(r => r.Id == cuda.Package).Version);
        Assert.Equal("0.107.0", cuda.References.Single(r => r.Id == cuda.Package).Version);
    }
}
