using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Whetstone.Engine.Runtime;

/// <summary>Two libtorch settings that only take effect through the process environment, read once
/// when libtorch loads or first allocates; the engine sets them, loads libtorch, makes one
/// allocation, and removes them again, so libraries loaded later (the llama.cpp peer's own libgomp)
/// see the environment as it was. A value the user set wins.
/// <list type="bullet">
/// <item>GOMP_SPINCOUNT: how long libtorch's OpenMP worker spins after a parallel region before
/// sleeping. libgomp's default (300,000 pause iterations, milliseconds on this CPU) keeps it
/// spinning through the decode kernels' own parallel passes that run between torch ops, so on a
/// 2-core machine three busy threads share two cores and every pass waits for a time slice
/// (16-stream fp32 decode ~2,000 tok/s with the default, ~3,000 with a short spin).</item>
/// <item>THP_MEM_ALLOC_ENABLE: c10 puts allocations of 2 MB and more on transparent huge pages, so
/// streaming the weights through a decode step misses the TLB far less (120m fp32 batch-1 decode
/// 88 → 129 tok/s in one A/B). The kernel must allow it (THP "madvise" or "always").</item>
/// </list>
/// Figures: bench/RESULTS.md.</summary>
internal static partial class TorchProcessSettings
{
    /// <summary>Spin iterations before sleeping: long enough for back-to-back torch ops (training,
    /// prefill) to find the worker awake, short enough to end within a decode kernel pass.</summary>
    public const int OpenMpSpinIterations = 5_000;

#pragma warning disable CA2255 // A library initializer on purpose: it must run before the first torch call loads libgomp.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void BeforeTorchLoads()
    {
        if (!OperatingSystem.IsLinux()) return;
        var set = new List<string>();
        if (Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is null && Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null
            && SetEnvironment("GOMP_SPINCOUNT", OpenMpSpinIterations.ToString(System.Globalization.CultureInfo.InvariantCulture), 1) == 0)
            set.Add("GOMP_SPINCOUNT");
        if (Environment.GetEnvironmentVariable("THP_MEM_ALLOC_ENABLE") is null && SetEnvironment("THP_MEM_ALLOC_ENABLE", "1", 1) == 0)
            set.Add("THP_MEM_ALLOC_ENABLE");
        if (set.Count == 0) return;
        try
        {
            TorchSharp.torch.get_num_threads();          // loads libtorch and, with it, its libgomp
            TorchSharp.torch.empty(1 << 20, device: TorchSharp.torch.CPU).Dispose();   // c10 reads THP_MEM_ALLOC_ENABLE at its first allocation of 2 MB or more
        }
        catch (Exception)
        {
            // No usable libtorch here: the first real torch call reports it.
        }
        finally
        {
            foreach (var name in set) UnsetEnvironment(name);
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvironment(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "unsetenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnsetEnvironment(string name);
}
