using System.Reflection;

// Console.Out and Console.Error are process-wide: the commands run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Whetstone.Cli.Tests;

/// <summary>What one `whet` invocation did: its exit code and everything it wrote.</summary>
internal sealed record WhetOutcome(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs `whet` in this process through the CLI assembly's own entry point (the same
/// Main the binary runs), with stdout and stderr captured.</summary>
internal static class Whet
{
    static readonly MethodInfo EntryPoint = Assembly.Load("whet").EntryPoint
        ?? throw new InvalidOperationException("the whet assembly has no entry point");
    static readonly object ConsoleLock = new();

    public static WhetOutcome Run(params string[] args)
    {
        lock (ConsoleLock)
        {
            TextWriter stdout = Console.Out, stderr = Console.Error;
            var output = new StringWriter();
            var error = new StringWriter();
            Console.SetOut(output);
            Console.SetError(error);
            try
            {
                int code = (int)EntryPoint.Invoke(null, [args])!;
                return new WhetOutcome(code, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetOut(stdout);
                Console.SetError(stderr);
            }
        }
    }

    /// <summary>Runs a command that must succeed, and returns its stdout.</summary>
    public static string Succeed(params string[] args)
    {
        var outcome = Run(args);
        Assert.True(outcome.ExitCode == 0, $"whet {string.Join(' ', args)} exited {outcome.ExitCode}: {outcome.Stderr}");
        return outcome.Stdout;
    }
}
