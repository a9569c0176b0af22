using System.Text.Json.Nodes;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Tests;

/// <summary>`whet logprobs`: the tokens of the text, and log p(token | prefix) for each, equal to
/// an independent computation; bad arguments refused with exit code 2 naming the field.</summary>
public class LogprobsCommandTests
{
    static (int[] Tokens, double?[] Logprobs) Json(string stdout)
    {
        var json = JsonNode.Parse(stdout)!.AsObject();
        return (json["tokens"]!.AsArray().Select(t => (int)t!).ToArray(),
                json["logprobs"]!.AsArray().Select(l => l is null ? (double?)null : (double)l).ToArray());
    }

    [Fact]
    public void JsonGivesTheTextsTokensAndTheirLogprobsUnderTheModel()
    {
        const string text = "The cat sat on the mat, 12 + 30 = 42.";
        var (tokens, logprobs) = Json(Whet.Succeed("logprobs", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "--text", text, "--json"));
        Assert.Equal(HuggingFaceTokenizer.Load(TinyModel.ModelDirectory).Encode(text), tokens);
        Assert.True(tokens.Length > 10);
        Assert.Null(logprobs[0]);
        var reference = ReferenceLogprobs.Of(TinyModel.ModelDirectory, tokens);
        for (int t = 1; t < tokens.Length; t++) Assert.Equal(reference[t]!.Value, logprobs[t]!.Value, 4);

        // --tokens scores the ids as given; the plain form prints one line per token, "-" for the first.
        var (given, givenLogprobs) = Json(Whet.Succeed("logprobs", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "--tokens", string.Join(',', tokens[..5]), "--json"));
        Assert.Equal(tokens[..5], given);
        Assert.Equal(logprobs[..5], givenLogprobs);
        var lines = Whet.Succeed("logprobs", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "--tokens", "5, 17,42").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal(["5", "-"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..2]);
        Assert.Equal(ReferenceLogprobs.Of(TinyModel.ModelDirectory, [5, 17, 42])[2]!.Value,
            double.Parse(lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]), 3);
    }

    [Theory]
    [InlineData(new[] { "--text", "hi", "--tokens", "1,2" }, "exactly one of --text or --tokens")]
    [InlineData(new string[0], "exactly one of --text or --tokens")]
    [InlineData(new[] { "--tokens", "1,x,3" }, "tokens [1] = 'x' is not an integer")]
    [InlineData(new[] { "--tokens", "1,100000" }, "tokens [1] = 100000 is outside the vocabulary")]
    public void BadArgumentsExitWith2NamingTheField(string[] arguments, string message)
    {
        var outcome = Whet.Run(["logprobs", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", .. arguments]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("error: ", outcome.Stderr);
        Assert.Contains(message, outcome.Stderr);
        Assert.Equal("", outcome.Stdout);
    }

    [Fact]
    public void AMissingAdapterIsAnUnusableModelFileExitCode3()
    {
        using var temp = new TempDirectory();
        var outcome = Whet.Run("logprobs", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "--text", "hi", "--adapter", temp["no-adapter"]);
        Assert.Equal(3, outcome.ExitCode);
        Assert.Contains("no-adapter", outcome.Stderr);
    }
}
