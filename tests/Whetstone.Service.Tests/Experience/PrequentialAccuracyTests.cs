using Whetstone.Protocol.OpenAi;
using static Whetstone.Service.Tests.Experience.RewardModelScenario;

namespace Whetstone.Service.Tests.Experience;

/// <summary>Prequential accuracy is measured before the update trains on the events. The events
/// are chosen so the untrained model gets every one wrong (each pair's preferred answer is the one
/// it scores lower), while after the update it gets most right: a recorded accuracy of 0 can only
/// come from predicting first; predicting after training would record the high number.</summary>
public class PrequentialAccuracyTests
{
    [Fact]
    public async Task EventsArePredictedBeforeTheUpdateTrainsOnThem()
    {
        await using var s = await StartAsync(settings: Settings(steps: 8));
        const int n = 12;
        var first = await PreferLowerScoredAsync(s, Enumerable.Range(0, n));
        var update = await s.UpdateAsync();
        Assert.Equal((n, 0), (update!.Predicted, update.PredictedCorrect));

        // The same events scored now, after training on them: mostly right.
        var chosen = await s.ScoreAsync(first.Select(p => p.Chosen));
        var rejected = await s.ScoreAsync(first.Select(p => p.Rejected));
        int rightAfter = chosen.Zip(rejected).Count(x => x.First > x.Second);
        Assert.True(rightAfter >= 0.75 * n, $"{rightAfter}/{n} ordered right after the update; the update recorded 0/{n} before it");

        // A second batch laid out the same way (chosen = the one the untrained model scored lower)
        // is now predicted well before its own update: the series shows the model learning.
        bool goodWasChosen = first.Count(p => p.Chosen.Item2[^1] == Good) * 2 > n;
        await PreferAsync(s, goodWasChosen, Enumerable.Range(n, n));
        var update2 = await s.UpdateAsync();
        var status = await s.Models.StatusAsync(s.Caller, Deployment);
        Assert.Equal([1, 2], status.Prequential.Select(p => p.Version));
        Assert.Equal(0.0, status.Prequential[0].Accuracy);
        Assert.Equal((double)update2!.PredictedCorrect / n, status.Prequential[1].Accuracy);
        Assert.True(status.Prequential[1].Accuracy >= 0.75, $"second batch predicted before its update: {status.Prequential[1].Accuracy:F3}");
        Assert.Equal(2 * n, status.Prequential[1].CumulativePredicted);
        Assert.Equal((double)update2.PredictedCorrect / (2 * n), status.Prequential[1].CumulativeAccuracy, 12);
        Assert.Equal(2 * n, status.EventsSeen);
    }

    /// <summary>For each seed a good and a bad answer to one prompt; the preference names as chosen
    /// the one the current (untrained) model scores lower.</summary>
    static async Task<List<((int[], int[]) Chosen, (int[], int[]) Rejected)>> PreferLowerScoredAsync(RewardModelScenario s, IEnumerable<int> seeds)
    {
        var pairs = new List<((int[], int[]), (int[], int[]))>();
        foreach (int i in seeds)
        {
            var prompt = Prompt(i);
            (int[], int[]) good = (prompt, Answer(i, good: true)), bad = (prompt, Answer(i + 500, good: false));
            var scores = await s.ScoreAsync([good, bad]);
            var (chosen, rejected) = scores[0] < scores[1] ? (good, bad) : (bad, good);
            string c = await s.ServedAsync(chosen.Item1, chosen.Item2), r = await s.ServedAsync(rejected.Item1, rejected.Item2);
            await s.FeedbackAsync(new FeedbackRequest { CompletionId = c, Type = "preference", RejectedCompletionId = r });
            pairs.Add((chosen, rejected));
        }
        return pairs;
    }

    /// <summary>Preferences between a good and a bad answer, the good one chosen when <paramref name="goodChosen"/>.</summary>
    static async Task PreferAsync(RewardModelScenario s, bool goodChosen, IEnumerable<int> seeds)
    {
        foreach (int i in seeds)
        {
            var prompt = Prompt(i);
            string good = await s.ServedAsync(prompt, Answer(i, good: true)), bad = await s.ServedAsync(prompt, Answer(i + 500, good: false));
            await s.FeedbackAsync(new FeedbackRequest { CompletionId = goodChosen ? good : bad, Type = "preference", RejectedCompletionId = goodChosen ? bad : good });
        }
    }
}
