using Whetstone.Protocol;
using static Whetstone.Service.Tests.Experience.RewardModelScenario;

namespace Whetstone.Service.Tests.Experience;

/// <summary>The streaming reward model, on its default settings, learns a taste that is a plain
/// function of the answer's text: thumbs up exactly when the answer closes with a fixed "sign-off"
/// run of tokens before its end token (the simulated users' main taste in the demo), down otherwise,
/// from 12 users in micro-batches of 8 as the demo feeds it. Prequential accuracy (each event
/// predicted before the update that trains on it) over the events after the first 32 must reach
/// the bound; a model at chance, as the reward model of the eighth session's experiment was
/// (0.52), fails it.</summary>
public class RewardModelLearnsSignOffTests
{
    const int Events = 96, Warmup = 32, Users = 12;
    static readonly int[] SignOff = [201, 202, 203, 204];
    const int End = 5;

    [Fact]
    public async Task PrequentialAccuracyOnASignOffTasteIsFarAboveChance()
    {
        var settings = new RewardModelSettings { Seed = 1, BatchEvents = 8, AutoUpdate = false };
        await using var s = await StartAsync(settings: settings);
        var random = new Random(11);
        for (int i = 0; i < Events; i++)
        {
            bool signsOff = random.NextDouble() < 0.5;
            var prompt = Enumerable.Range(0, 6 + random.Next(4)).Select(_ => random.Next(20, 200)).ToArray();
            int[] answer = [.. Enumerable.Range(0, 8 + random.Next(7)).Select(_ => random.Next(20, 200)), .. signsOff ? SignOff : [], End];
            await s.ThumbsAsync(await s.ServedAsync(prompt, answer, user: $"u{i % Users}", finishReason: "stop"), up: signsOff);
        }
        var updates = new List<Whetstone.Service.Experience.RewardModels.RewardModelUpdate>();
        while (await s.UpdateAsync() is { } update) updates.Add(update);
        Assert.Equal(Events / settings.BatchEvents, updates.Count);
        var later = updates.Skip(Warmup / settings.BatchEvents).ToArray();
        int predicted = later.Sum(u => u.Predicted), correct = later.Sum(u => u.PredictedCorrect);
        Assert.Equal(Events - Warmup, predicted);
        double accuracy = (double)correct / predicted;
        // 0.75 of 64 events (48): a coin reaches it with probability 4e-5; measured 56/64 here, the
        // margin left for other float kernels (AVX2-only CI).
        Assert.True(accuracy >= 0.75, $"prequential accuracy after {Warmup} events: {correct}/{predicted} = {accuracy:F3}; per update " +
            string.Join(" ", updates.Select(u => $"{u.PredictedCorrect}/{u.Predicted}")));
    }
}
