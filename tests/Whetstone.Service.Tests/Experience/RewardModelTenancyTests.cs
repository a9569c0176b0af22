using Whetstone.Protocol.OpenAi;
using static Whetstone.Service.Tests.Experience.RewardModelScenario;

namespace Whetstone.Service.Tests.Experience;

/// <summary>A tenant's log and feedback train only its own reward model: another tenant's
/// deployment of the same name sees none of it, cannot reach the first tenant's model, and
/// cannot give feedback on its completions.</summary>
public class RewardModelTenancyTests
{
    [Fact]
    public async Task FeedbackOfOneTenantNeverTrainsAnothersRewardModel()
    {
        await using var a = await StartAsync("alma");
        var b = a.Tenant2("bert");
        await b.CreateAsync(Deployment, Settings());   // the same deployment name, another tenant
        await b.Server.Core.Deployments.CreateAsync(b.Caller, new Protocol.CreateDeploymentRequest("only-b"));

        var ids = new List<string>();
        for (int i = 0; i < 6; i++) ids.Add(await a.ThumbsAsync(await a.ServedAsync(Prompt(i), Answer(i, good: true), "alma-user"), up: true));
        var probe = Enumerable.Range(0, 6).Select(i => (Prompt(i), Answer(i, good: true))).ToArray();
        var bBefore = await b.ScoreAsync(probe);

        Assert.Equal(0, (await b.Models.StatusAsync(b.Caller, Deployment)).EventsPending);
        Assert.Null(await b.UpdateAsync());
        Assert.Equal(6, (await a.Models.StatusAsync(a.Caller, Deployment)).EventsPending);
        Assert.Equal(ids, (await a.UpdateAsync())!.Version.FeedbackIds);
        Assert.Equal(bBefore, await b.ScoreAsync(probe));   // untouched, to the bit
        Assert.Equal(0, (await b.Models.VersionsAsync(b.Caller, Deployment)).Max(v => v.Version));

        // b cannot give feedback on a's completion, nor reach a reward model it does not own.
        var completion = await a.ServedAsync(Prompt(9), Answer(9, good: false));
        var refused = await Assert.ThrowsAsync<ApiError>(() => b.ThumbsAsync(completion, up: false));
        Assert.Equal((System.Net.HttpStatusCode.NotFound, "completion_id"), (refused.Status, refused.Field));
        await a.Server.Core.Deployments.CreateAsync(a.Caller, new Protocol.CreateDeploymentRequest("only-a"));
        await a.Models.CreateAsync(a.Caller, "only-a", new Protocol.CreateRewardModelRequest { BaseModel = EndToEnd.TestServers.ModelName, Settings = Settings() });
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Assert.ThrowsAsync<ApiError>(() => b.Models.StatusAsync(b.Caller, "only-a"))).Status);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Assert.ThrowsAsync<ApiError>(() => b.ScoreAsync(probe, "only-a"))).Status);
        Assert.Null(await b.Models.CurrentVersionAsync(b.Caller, "only-a"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Assert.ThrowsAsync<ApiError>(() => b.UpdateAsync("only-a"))).Status);
        // Nor create one on a's deployment: to b it does not exist.
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Assert.ThrowsAsync<ApiError>(() =>
            b.Models.CreateAsync(b.Caller, "only-a", new Protocol.CreateRewardModelRequest { BaseModel = EndToEnd.TestServers.ModelName }))).Status);
    }
}
