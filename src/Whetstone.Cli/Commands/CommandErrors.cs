using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;

namespace Whetstone.Cli.Commands;

/// <summary>Turns the engine's exceptions into one line on stderr and an exit code a script can
/// act on: 2 = bad arguments, 3 = unusable model files, 1 = anything unexpected.</summary>
internal static class CommandErrors
{
    public const int BadArguments = 2;
    public const int BadModel = 3;

    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (ExitCode(e) is int code) { return Fail(code, e.Message); }
    }

    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (ExitCode(e) is int code) { return Fail(code, e.Message); }
    }

    static int? ExitCode(Exception e) => e switch
    {
        SamplingArgumentException => BadArguments,
        ModelConfigException => BadModel,
        FileNotFoundException or DirectoryNotFoundException or InvalidDataException => BadModel,
        // A GGUF we cannot convert (other quantised types, another architecture or tokenizer).
        NotSupportedException => BadModel,
        // An output path that is in the way (a non-empty directory we refuse to replace).
        IOException => BadArguments,
        ArgumentException => BadArguments,
        _ => null,
    };

    public static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
