using System.Diagnostics;

namespace Whetstone.Service.Hosting;

/// <summary>Where `whet serve`'s start-up time goes (docs/SCALING.md): with WHET_STARTUP_TRACE=1
/// each start-up phase writes one line to stderr, "startup N ms, cpu M ms: phase": N counted from
/// the process's start, M the CPU time the process has used so far. On a loaded machine the wall
/// time mostly measures the wait for a core; the CPU time is the work a phase costs.</summary>
public static class StartupTrace
{
    static readonly bool On = Environment.GetEnvironmentVariable("WHET_STARTUP_TRACE") == "1";
    static readonly DateTime ProcessStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public static void Mark(string phase)
    {
        if (On) Console.Error.WriteLine($"startup {(DateTime.UtcNow - ProcessStart).TotalMilliseconds:F0} ms, " +
            $"cpu {Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds:F0} ms: {phase}");
    }
}
