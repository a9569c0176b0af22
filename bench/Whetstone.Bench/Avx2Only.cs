using System.Diagnostics;

namespace Whetstone.Bench;

/// <summary>`--avx2`: runs the benchmark as an AVX2-only CPU would, on a CPU that has AVX-512. Our
/// decode kernels take their AVX2 path (WHET_DECODE_ISA), the JIT stops using AVX-512 at all
/// (DOTNET_EnableAVX512=0: VEX encoding, 16 vector registers, as on a real AVX2 machine — with
/// AVX-512 present it would give 256-bit code 32 registers), and libtorch's MKL, oneDNN and ATen
/// kernels are held to AVX2 too. llama.cpp loads LLamaSharp's avx2 build (see
/// <see cref="LlamaCppPeerBenchmark"/>). These settings only work from the process's start, so
/// the benchmark runs again as a child process with them in its environment.</summary>
internal static class Avx2Only
{
    static readonly (string Name, string Value)[] Settings =
    [
        ("WHET_DECODE_ISA", "avx2"),
        ("DOTNET_EnableAVX512", "0"),
        ("MKL_ENABLE_INSTRUCTIONS", "AVX2"),
        ("ONEDNN_MAX_CPU_ISA", "AVX2"),
        ("ATEN_CPU_CAPABILITY", "avx2"),
    ];

    public static bool InEffect => Settings.All(e => Environment.GetEnvironmentVariable(e.Name) == e.Value);

    /// <summary>Runs this program again with the AVX2-only environment and the same arguments; its exit code.</summary>
    public static int Relaunch(string[] args)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(Avx2Only).Assembly.Location);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in Settings) start.Environment[name] = value;
        using var child = Process.Start(start)!;
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>What this process runs with, for the results: decode ISA, JIT AVX-512, CPU flags, load.</summary>
    public static string Describe()
    {
        string flags = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "" : "";
        var simd = flags.Split(' ').Where(f => f is "avx2" or "fma" or "avx512f" or "avx512bw" or "avx512vl" or "avx512_bf16" or "avx512_vnni").ToArray();
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        return $"decode ISA {Whetstone.Engine.Models.DecodeInstructionSet.Current}, JIT AVX-512 {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "on" : "off")}, "
            + $"CPU flags [{string.Join(' ', simd)}], load {load}";
    }
}
