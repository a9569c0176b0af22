using System.CommandLine;
using System.Text.Json;
using Whetstone.Protocol;

namespace Whetstone.Cli.Commands;

/// <summary>Options `whet loop demo` and `whet loop experiment` share for trying loop settings
/// without a rebuild: the whole loop request from a JSON file, and users who state their taste.</summary>
internal static class LoopTuning
{
    public static readonly Option<string?> Settings = new("--loop-settings")
    {
        Description = "JSON file with the loop's create request (its deployment is replaced); default: the demo's loop",
    };

    public static readonly Option<bool> StatePreferences = new("--state-preferences")
    {
        Description = "Each simulated user sends their taste (length, a disliked word) as a system message",
    };

    public static readonly Option<bool> EditCorrections = new("--edit-corrections")
    {
        Description = "Users correct by post-editing the answer they got (disliked word replaced, a wrong answer's steps redone) instead of rewriting it in their taste",
    };

    public static readonly Option<string> Taste = new("--taste")
    {
        Description = "What concise and detailed users want: sign-off (default: detailed users want 'So this is right.' after the Answer line), " +
            "no-preamble (concise users want no opening method sentence) or one-line (sessions 1-6: concise users want all work on one line)",
        DefaultValueFactory = _ => "sign-off",
    };

    public static Whetstone.Cookbook.SimulatedUsers.LengthTaste ParseTaste(ParseResult result) => result.GetValue(Taste) switch
    {
        "sign-off" => Whetstone.Cookbook.SimulatedUsers.LengthTaste.SignOff,
        "no-preamble" => Whetstone.Cookbook.SimulatedUsers.LengthTaste.NoPreamble,
        "one-line" => Whetstone.Cookbook.SimulatedUsers.LengthTaste.OneLine,
        var other => throw new ArgumentException($"--taste '{other}' is not sign-off, no-preamble or one-line"),
    };

    public static CreateLoopRequest? Load(ParseResult result) => result.GetValue(Settings) is { } file
        ? JsonSerializer.Deserialize<CreateLoopRequest>(File.ReadAllText(file), ProtocolJson.Options)! with { Deployment = "" }
        : null;
}
