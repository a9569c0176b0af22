using Whetstone.Protocol.OpenAi;
using static Whetstone.Service.Tests.Experience.RewardModelScenario;

namespace Whetstone.Service.Tests.Experience;

/// <summary>A preference between two completions that came out the same answer has no direction:
/// any score gives both the same value, so "chosen above rejected" can never hold, and the service
/// counted every such pair wrong (89 of 148 preferences of the eighth session's three-arm run were
/// identical samples). Such a pair is trained on (its gradients cancel) but not predicted; a pair of
/// different answers still is.</summary>
public class PrequentialTiesTests
{
    [Fact]
    public async Task APairOfIdenticalAnswersIsNotPredicted()
    {
        await using var s = await StartAsync();
        var prompt = Prompt(1);
        var same = Answer(1, good: true);
        string a = await s.ServedAsync(prompt, same), b = await s.ServedAsync(prompt, same);
        string tied = await s.FeedbackAsync(new FeedbackRequest { CompletionId = a, Type = "preference", RejectedCompletionId = b });
        string c = await s.ServedAsync(prompt, Answer(2, good: true)), d = await s.ServedAsync(prompt, Answer(3, good: false));
        string distinct = await s.FeedbackAsync(new FeedbackRequest { CompletionId = c, Type = "preference", RejectedCompletionId = d });

        var update = await s.UpdateAsync();
        Assert.Equal((2, 1), (update!.NewEvents, update.Predicted));
        Assert.Equal(new[] { tied, distinct }.Order(), update.Version.FeedbackIds.Order());
        var predictions = await s.Store.ListRewardModelPredictionsAsync(s.Tenant, Deployment);
        Assert.Equal([distinct], predictions.Select(p => p.FeedbackId));
    }
}
