using System.Text.Json.Nodes;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Tests;

/// <summary>`whet sample`: seeded sampling is reproducible, greedy follows the argmax, every
/// reported logprob is the model's; bad settings exit with 2 naming the field.</summary>
public class SampleCommandTests
{
    const string Prompt = "Once upon a time";

    sealed record Sampled(string Text, int[] Tokens, double[] Logprobs, string StopReason);

    static (int PromptTokens, Sampled[] Samples) Run(params string[] options)
    {
        var json = JsonNode.Parse(Whet.Succeed(["sample", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "-p", Prompt, "--json", .. options]))!;
        return ((int)json["prompt_tokens"]!, json["samples"]!.AsArray().Select(s => new Sampled(
            (string)s!["text"]!, s["tokens"]!.AsArray().Select(t => (int)t!).ToArray(),
            s["logprobs"]!.AsArray().Select(l => (double)l!).ToArray(), (string)s["stop_reason"]!)).ToArray());
    }

    [Fact]
    public void TheSameSeedGivesTheSameTextAndAnotherSeedAnother()
    {
        var first = Whet.Succeed("sample", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "-p", Prompt, "--max-tokens", "12", "--seed", "3", "--json");
        var again = Whet.Succeed("sample", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "-p", Prompt, "--max-tokens", "12", "--seed", "3", "--json");
        Assert.Equal(first, again);
        var (_, three) = Run("--max-tokens", "12", "--seed", "3");
        var (_, four) = Run("--max-tokens", "12", "--seed", "4");
        // A random model spreads its probability over hundreds of tokens: 12 equal draws would be a broken seed.
        Assert.NotEqual(three[0].Tokens, four[0].Tokens);
        // The plain form prints the same completion's text.
        Assert.Equal(three[0].Text + "\n", Whet.Succeed("sample", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "-p", Prompt, "--max-tokens", "12", "--seed", "3"));
    }

    [Fact]
    public void EachSampledTokensLogprobIsTheModelsAndTheTextIsItsDecoding()
    {
        var tokenizer = HuggingFaceTokenizer.Load(TinyModel.ModelDirectory);
        var prompt = tokenizer.Encode(Prompt);
        var (promptTokens, samples) = Run("--max-tokens", "10", "--seed", "7", "-n", "3");
        Assert.Equal(prompt.Count, promptTokens);
        Assert.Equal(3, samples.Length);
        foreach (var s in samples)
        {
            Assert.Equal(tokenizer.Decode(s.Tokens), s.Text);
            Assert.Equal(s.Tokens.Length, s.Logprobs.Length);
            // "length" is exactly max_tokens; "stop" ends on one of the model's end-of-sequence tokens.
            if (s.StopReason == "length") Assert.Equal(10, s.Tokens.Length);
            else { Assert.Equal("stop", s.StopReason); Assert.Contains(s.Tokens[^1], tokenizer.EosTokenIds); }
            // Temperature 1: the reported logprob is log p(token | prompt + the tokens before it).
            var reference = ReferenceLogprobs.Of(TinyModel.ModelDirectory, [.. prompt, .. s.Tokens]);
            for (int i = 0; i < s.Tokens.Length; i++) Assert.Equal(reference[prompt.Count + i]!.Value, s.Logprobs[i], 4);
        }
    }

    [Fact]
    public void TemperatureZeroFollowsTheArgmaxOfTheModel()
    {
        var tokenizer = HuggingFaceTokenizer.Load(TinyModel.ModelDirectory);
        var prompt = tokenizer.Encode(Prompt);
        var (_, samples) = Run("--max-tokens", "8", "-t", "0");
        var tokens = samples[0].Tokens;
        Assert.NotEmpty(tokens);
        var logits = ReferenceLogprobs.Logits(TinyModel.ModelDirectory, [.. prompt, .. tokens]);
        for (int i = 0; i < tokens.Length; i++)
        {
            var row = logits[prompt.Count + i - 1];
            Assert.Equal(Array.IndexOf(row, row.Max()), tokens[i]);
        }
    }

    [Theory]
    [InlineData(new[] { "--temperature", "-1" }, "temperature")]
    [InlineData(new[] { "--top-p", "0" }, "top_p")]
    [InlineData(new[] { "--top-k", "-2" }, "top_k")]
    [InlineData(new[] { "--max-tokens", "0" }, "max_tokens")]
    [InlineData(new[] { "--max-tokens", "600" }, "max_tokens = 600 with a")]
    [InlineData(new[] { "-n", "0" }, "num_samples")]
    [InlineData(new[] { "--stop", "" }, "stop contains an empty string")]
    public void BadSettingsExitWith2NamingTheField(string[] settings, string field)
    {
        var outcome = Whet.Run(["sample", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "-p", Prompt, .. settings]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith($"error: {field}", outcome.Stderr);
        Assert.Equal("", outcome.Stdout);
    }

    [Fact]
    public void AnEmptyPromptIsRefusedNamingThePrompt()
    {
        var outcome = Whet.Run("sample", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "-p", "");
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("error: prompt encodes to no tokens", outcome.Stderr);
    }
}
