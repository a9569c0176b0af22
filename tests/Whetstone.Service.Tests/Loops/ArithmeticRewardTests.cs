using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Loops;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.Loops;

/// <summary>rl.verifiable.arithmetic: the reward recomputes the prompt's sum and pays only an answer
/// whose "Answer: N" is that value — not a wrong sum however well formatted, not an answer cut off
/// before its "Answer:" line, not one whose worked steps hold the right number but whose result is wrong.</summary>
public class ArithmeticRewardTests
{
    static readonly HuggingFaceTokenizer Tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);
    static readonly IRenderer Renderer = RendererFactory.For(Tokenizer);
    static readonly VerifiableReward Arithmetic = new() { Arithmetic = true, Weight = 0.75 };

    static string Prompt(string question, string? system = null) => Tokenizer.Decode(Renderer.BuildGenerationPrompt(
        system is null ? [new ChatMessage("user", question)] : [new ChatMessage("system", system), new ChatMessage("user", question)]));

    [Theory]
    [InlineData("What is 57 + 68?", 125)]
    [InlineData("What is 72 - 38?", 34)]
    [InlineData("What is 435 + 591?", 1026)]
    [InlineData("What is 18 - 61?", -43)]
    public void TheExpectedValueIsRecomputedFromTheRenderedPrompt(string question, long expected)
    {
        Assert.Equal(expected, ArithmeticAnswer.Expected(Prompt(question)));
        Assert.Equal(expected, ArithmeticAnswer.Expected(Prompt(question, "Be concise: all work on one line. Do not use the word \"carry\".")));
    }

    [Fact]
    public void ARightResultEarnsTheWeightAndAWrongOrMissingOneNothing()
    {
        string prompt = Prompt("What is 57 + 68?", "Show each step on its own line.");
        string worked = "Add digit by digit from the right.\n7 + 8 = 15, write 5 carry 1.\n5 + 6 + 1 = 12, write 2 carry 1.\n0 + 0 + 1 = 1, write 1.\n";
        Assert.Equal(0.75, LoopReward.Verifiable(Arithmetic, prompt, worked + "Answer: 125"));
        Assert.Equal(0.75, LoopReward.Verifiable(Arithmetic, prompt, "Answer: 125"));
        Assert.Equal(0, LoopReward.Verifiable(Arithmetic, prompt, worked + "Answer: 115"));   // one wrong digit
        Assert.Equal(0, LoopReward.Verifiable(Arithmetic, prompt, worked));                    // cut off before the result
        Assert.Equal(0, LoopReward.Verifiable(Arithmetic, prompt, "Answer: 125\nAnswer: 126")); // the last result counts
        Assert.Equal(0, LoopReward.Verifiable(Arithmetic, prompt, "The answer is 125."));      // no "Answer:" line
        Assert.Equal(0, LoopReward.Verifiable(Arithmetic, Prompt("Tell me a story."), "Answer: 125")); // nothing to verify
        // Combined with a text condition, both must hold.
        var both = Arithmetic with { MustNotContain = "carry" };
        Assert.Equal(0, LoopReward.Verifiable(both, prompt, worked + "Answer: 125"));
        Assert.Equal(0.75, LoopReward.Verifiable(both, prompt, worked.Replace("carry", "keep") + "Answer: 125"));
    }

    [Fact]
    public async Task TheLoopRewardReadsEachPairsOwnPrompt()
    {
        var rl = new LoopRlSettings { RmWeight = 0, Verifiable = Arithmetic };
        var reward = new LoopReward(new NoRewardModel(), rl, tokens => Tokenizer.Decode(tokens), new Caller("t", "k", false), "d");
        IReadOnlyList<int> Tokens(string text) => Tokenizer.Encode(text).ToArray();
        var sum = Renderer.BuildGenerationPrompt([new ChatMessage("user", "What is 23 + 45?")]);
        var difference = Renderer.BuildGenerationPrompt([new ChatMessage("user", "What is 96 - 34?")]);
        (IReadOnlyList<int>, IReadOnlyList<int>)[] pairs =
            [(sum, Tokens("Answer: 68")), (difference, Tokens("Answer: 68")), (difference, Tokens("Answer: 62")), (sum, Tokens("Answer: 62"))];
        var scores = await reward.ScoreAsync(pairs, CancellationToken.None);
        Assert.Equal([0.75, 0, 0.75, 0], scores);
        Assert.True(await reward.CanVaryAsync(CancellationToken.None));
    }

    [Fact]
    public void ArithmeticAloneIsAValidVerifiableReward()
    {
        var spec = new LoopSpec(new LoopTrigger(), new LoopRlSettings { Verifiable = new VerifiableReward { Arithmetic = true } },
            new LoopGateSettings(), new LoopCanarySettings());
        Assert.Same(spec, spec.Validated());
        var none = spec with { Rl = new LoopRlSettings { Verifiable = new VerifiableReward() } };
        var error = Assert.ThrowsAny<Exception>(() => none.Validated());
        Assert.Contains("arithmetic", error.Message, StringComparison.Ordinal);
    }

    sealed class NoRewardModel : IDeploymentRewardModel
    {
        public Task<RewardModelScores?> ScoreAsync(Caller caller, string deployment, IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Answer)> pairs,
            CancellationToken cancellationToken) => Task.FromResult<RewardModelScores?>(null);

        public Task<string?> CatchUpAsync(Caller caller, string deployment, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

        public Task<(int Predicted, int Correct)> RecentAccuracyAsync(Caller caller, string deployment, int window, CancellationToken cancellationToken) =>
            Task.FromResult((0, 0));

        public Task<IReadOnlyList<CorrectionExample>> TrainedCorrectionsAsync(Caller caller, string deployment, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<CorrectionExample>>([]);
    }
}
