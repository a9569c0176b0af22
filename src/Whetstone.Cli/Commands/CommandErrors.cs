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
        catch (SamplingArgumentException e) { return Fail(BadArguments, e.Message); }
        catch (ModelConfigException e) { return Fail(BadModel, e.Message); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
        { return Fail(BadModel, e.Message); }
        // A GGUF we cannot convert (quantised tensors, another architecture or tokenizer).
        catch (NotSupportedException e) { return Fail(BadModel, e.Message); }
        // An output path that is in the way (a non-empty directory we refuse to replace).
        catch (IOException e) { return Fail(BadArguments, e.Message); }
        catch (ArgumentException e) { return Fail(BadArguments, e.Message); }
    }

    public static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
