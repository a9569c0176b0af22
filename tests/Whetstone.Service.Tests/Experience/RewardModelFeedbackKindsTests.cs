using Whetstone.Protocol.OpenAi;
using static Whetstone.Service.Tests.Experience.RewardModelScenario;

namespace Whetstone.Service.Tests.Experience;

/// <summary>Each kind of feedback moves the reward model's score the way it says: thumbs up
/// raises the answer's score and down lowers it, a 5 rating ranks above a 1, a preferred answer
/// above the rejected one, a correction above the answer it corrects. Measured on the events'
/// own (prompt, answer) before and after one micro-batch update.</summary>
public class RewardModelFeedbackKindsTests
{
    const int Events = 8;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ThumbsMoveTheAnswersScoreTheirWay(bool up)
    {
        await using var s = await StartAsync();
        var pairs = Enumerable.Range(0, Events).Select(i => (Prompt(i), Answer(i, good: up))).ToArray();
        foreach (var (prompt, answer) in pairs) await s.ThumbsAsync(await s.ServedAsync(prompt, answer, user: $"u{prompt[0]}"), up);
        double before = (await s.ScoreAsync(pairs)).Average();
        var update = await s.UpdateAsync();
        Assert.Equal(Events, update!.NewEvents);
        double after = (await s.ScoreAsync(pairs)).Average();
        double moved = up ? after - before : before - after;
        Assert.True(moved > 0.2, $"thumbs {(up ? "up" : "down")}: mean score {before:F3} → {after:F3}");
    }

    [Fact]
    public async Task AFiveRatingEndsAboveAOneRating()
    {
        await using var s = await StartAsync();
        var high = Enumerable.Range(0, Events / 2).Select(i => (Prompt(i), Answer(i, good: true))).ToArray();
        var low = Enumerable.Range(100, Events / 2).Select(i => (Prompt(i), Answer(i, good: false))).ToArray();
        foreach (var (p, a) in high) await s.FeedbackAsync(new FeedbackRequest { CompletionId = await s.ServedAsync(p, a), Type = "rating", Rating = 5 });
        foreach (var (p, a) in low) await s.FeedbackAsync(new FeedbackRequest { CompletionId = await s.ServedAsync(p, a), Type = "rating", Rating = 1 });
        double gapBefore = (await s.ScoreAsync(high)).Average() - (await s.ScoreAsync(low)).Average();
        await s.UpdateAsync();
        double highAfter = (await s.ScoreAsync(high)).Average(), lowAfter = (await s.ScoreAsync(low)).Average();
        Assert.True(highAfter - lowAfter > gapBefore + 0.2, $"rated 5 minus rated 1: {gapBefore:F3} → {highAfter - lowAfter:F3}");
    }

    [Fact]
    public async Task APreferenceRanksTheChosenAnswerAboveTheRejected()
    {
        await using var s = await StartAsync();
        var chosen = new List<(int[], int[])>();
        var rejected = new List<(int[], int[])>();
        for (int i = 0; i < Events; i++)
        {
            var prompt = Prompt(i);
            var (good, bad) = (Answer(i, good: true), Answer(i + 50, good: false));
            string a = await s.ServedAsync(prompt, good), b = await s.ServedAsync(prompt, bad);
            await s.FeedbackAsync(new FeedbackRequest { CompletionId = a, Type = "preference", RejectedCompletionId = b });
            chosen.Add((prompt, good));
            rejected.Add((prompt, bad));
        }
        double Margin(IReadOnlyList<double> c, IReadOnlyList<double> r) => c.Zip(r, (x, y) => x - y).Average();
        double before = Margin(await s.ScoreAsync(chosen), await s.ScoreAsync(rejected));
        await s.UpdateAsync();
        double after = Margin(await s.ScoreAsync(chosen), await s.ScoreAsync(rejected));
        Assert.True(after > before + 0.2, $"chosen minus rejected: {before:F3} → {after:F3}");
    }

    [Fact]
    public async Task ACorrectionRanksAboveTheAnswerItCorrectsAndIsAnSftExample()
    {
        await using var s = await StartAsync();
        var encode = s.Server.Core.Context.Host(EndToEnd.TestServers.ModelName).Worker.Tokenizer;
        int end = encode.TokenToId("<|im_end|>")!.Value;
        const string better = "Seven, and here is why.";
        var originals = new List<(int[], int[])>();
        var corrections = new List<(int[], int[])>();
        for (int i = 0; i < Events; i++)
        {
            var (prompt, answer) = (Prompt(i), Answer(i, good: false));
            await s.FeedbackAsync(new FeedbackRequest { CompletionId = await s.ServedAsync(prompt, answer), Type = "correction", Correction = better });
            originals.Add((prompt, answer));
            // The answer was cut by length; the correction still ends its turn (a correction is a whole answer).
            corrections.Add((prompt, [.. encode.Encode(better), end]));
        }
        double Margin(IReadOnlyList<double> c, IReadOnlyList<double> r) => c.Zip(r, (x, y) => x - y).Average();
        double before = Margin(await s.ScoreAsync(corrections), await s.ScoreAsync(originals));
        var update = await s.UpdateAsync();
        Assert.Equal(Events, update!.Predicted);
        double after = Margin(await s.ScoreAsync(corrections), await s.ScoreAsync(originals));
        Assert.True(after > before + 0.2, $"correction minus original: {before:F3} → {after:F3}");

        var sft = await s.Models.CorrectionsAsync(s.Caller, Deployment);
        Assert.Equal(Events, sft.Count);
        Assert.Equal(originals[3].Item1, sft[3].PromptTokens);
        Assert.Equal(better, sft[3].Correction);
        Assert.Equal(corrections[3].Item2, sft[3].CorrectionTokens);
    }
}
