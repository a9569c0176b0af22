using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Experience.RewardModels;
using static Whetstone.Service.Tests.Experience.RewardModelScenario;

namespace Whetstone.Service.Tests.Experience;

/// <summary>A correction is a whole answer, so as an SFT example (and as the reward model's chosen
/// side) it ends its turn with exactly one end-of-turn token, whether the answer it corrects stopped
/// or was cut off at max_tokens. Before, corrections of cut-off answers had no end token and the
/// loop's SFT on them taught the policy to keep writing after its answer.</summary>
public class CorrectionEndOfTurnTests
{
    // Ids far from any text's tokens, so an end token is never confused with one.
    const int ImEnd = 1001, Eos = 1002;
    static readonly CorrectionEncoder Fixed = new(text => text.Select(c => (int)c).ToArray(), [ImEnd, Eos]);

    static ServedChoice Served(string finishReason, params int[] tokens) => new(0, tokens, tokens.Select(_ => -1f).ToArray(), "", finishReason);

    [Fact]
    public void EveryCorrectionEndsWithExactlyOneEndOfTurnToken()
    {
        int[] text = [.. "ab".Select(c => (int)c)];
        Assert.Equal([.. text, ImEnd], Fixed.Tokens("ab", Served("length", 5, 6)));                   // cut off: the preferred end
        Assert.Equal([.. text, ImEnd], Fixed.Tokens("ab", Served("stop", 5, ImEnd)));                  // stopped on <|im_end|>: one, not two
        Assert.Equal([.. text, Eos], Fixed.Tokens("ab", Served("stop", 5, Eos)));                      // stopped on EOS: that one, so the pair differs by content
        Assert.Equal([.. text, ImEnd], Fixed.Tokens("ab", Served("stop", 5, 6)));                      // stopped on a stop string: not an end token
        Assert.Equal([.. text, ImEnd], Fixed.Tokens("ab", Served("length")));                          // nothing served at all
        var endsItself = new CorrectionEncoder(_ => [97, Eos], [ImEnd, Eos]);
        Assert.Equal([97, Eos], endsItself.Tokens("a", Served("length", 5)));                          // its text already ends the turn
        Assert.Equal([97, 98], new CorrectionEncoder(_ => [97, 98], []).Tokens("ab", Served("length", 5))); // a model with no end ids
    }

    [Fact]
    public async Task TheServedCorrectionsAndTheRewardModelsPairEndTheTurnOfACutOffAnswer()
    {
        await using var s = await StartAsync();
        var tokenizer = s.Server.Core.Context.Host(EndToEnd.TestServers.ModelName).Worker.Tokenizer;
        int end = tokenizer.TokenToId("<|im_end|>")!.Value;
        const string better = "Seven, and here is why.";
        int[] text = [.. tokenizer.Encode(better)];
        Assert.DoesNotContain(end, text);
        var (prompt, cut) = (Prompt(1), Answer(1, good: false));
        var (prompt2, stopped) = (Prompt(2), (int[])[.. Answer(2, good: false), end]);
        string cutFeedback = await s.FeedbackAsync(new FeedbackRequest { CompletionId = await s.ServedAsync(prompt, cut, finishReason: "length"), Type = "correction", Correction = better });
        string stoppedFeedback = await s.FeedbackAsync(new FeedbackRequest { CompletionId = await s.ServedAsync(prompt2, stopped, finishReason: "stop"), Type = "correction", Correction = better });

        var sft = await s.Models.CorrectionsAsync(s.Caller, Deployment);
        Assert.Equal(2, sft.Count);
        Assert.Equal([.. text, end], sft.Single(c => c.FeedbackId == cutFeedback).CorrectionTokens);
        var ofStopped = sft.Single(c => c.FeedbackId == stoppedFeedback).CorrectionTokens;
        Assert.Equal([.. text, end], ofStopped);
        Assert.Single(ofStopped, t => t == end);

        // The reward model's pair: the correction ends its turn, the cut-off answer stays as served.
        var record = await s.Store.GetFeedbackAsync(cutFeedback, TestContext.Current.CancellationToken);
        var pair = await FeedbackExample.FromAsync(s.Store, record!, Deployment, CorrectionEncoder.For(tokenizer), 4096, TestContext.Current.CancellationToken);
        Assert.Equal([.. prompt, .. text, end], pair!.Chosen);
        Assert.Equal([.. prompt, .. cut], pair.Rejected);
    }
}
