namespace Whetstone.Cli.Tests;

/// <summary>One random-weight Qwen3 model per test process, written by `whet init-model` itself
/// (its own tests check what that writes).</summary>
internal static class TinyModel
{
    public const int HiddenSize = 32, Layers = 2, Heads = 4, KeyValueHeads = 2, IntermediateSize = 64, MaxPositions = 512;

    static readonly Lazy<string> Written = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-cli-tests", "models", $"tiny-{Environment.ProcessId}");
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        Whet.Succeed("init-model", "--out", directory, "--hidden-size", $"{HiddenSize}", "--layers", $"{Layers}", "--heads", $"{Heads}",
            "--kv-heads", $"{KeyValueHeads}", "--intermediate-size", $"{IntermediateSize}", "--max-positions", $"{MaxPositions}", "--seed", "11");
        return directory;
    });

    public static string ModelDirectory => Written.Value;
}
