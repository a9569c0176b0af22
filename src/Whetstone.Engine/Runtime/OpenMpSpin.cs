using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Whetstone.Engine.Runtime;

/// <summary>How long libtorch's OpenMP worker keeps spinning after a parallel region before it
/// sleeps. libgomp's default (300,000 pause iterations, milliseconds on this CPU) keeps it spinning
/// through the decode kernels' own parallel sections that run between torch ops, so on a 2-core
/// machine three busy threads share two cores and every kernel pass waits for a time slice
/// (16-stream fp32 decode measured ~2,000 tok/s with the default, ~3,000 with a short spin;
/// bench/RESULTS.md). libgomp reads GOMP_SPINCOUNT once, when it loads, so the engine sets it in
/// the process environment, loads libtorch, and removes it again: libraries loaded later (the
/// llama.cpp peer's own libgomp) see the environment as it was. A GOMP_SPINCOUNT or
/// OMP_WAIT_POLICY the user set wins.</summary>
internal static partial class OpenMpSpin
{
    /// <summary>Spin iterations before sleeping: long enough for back-to-back torch ops (training,
    /// prefill) to find the worker awake, short enough to end within a decode kernel pass.</summary>
    public const int Iterations = 20_000;

#pragma warning disable CA2255 // A library initializer on purpose: it must run before the first torch call loads libgomp.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void BeforeTorchLoads()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null
            || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return;
        if (SetEnvironment("GOMP_SPINCOUNT", Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture), 1) != 0) return;
        try
        {
            TorchSharp.torch.get_num_threads();   // loads libtorch and, with it, its libgomp
        }
        catch (Exception)
        {
            // No usable libtorch here: the first real torch call reports it.
        }
        finally
        {
            UnsetEnvironment("GOMP_SPINCOUNT");
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvironment(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "unsetenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnsetEnvironment(string name);
}
