using Whetstone.Service.Cluster;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>The run grain key carries the base model the director places by; the role names of
/// `whet serve --role`.</summary>
[Collection(ClusterCollection.Name)]
public class ClusterNamesTests
{
    [Theory]
    [InlineData("tiny-qwen3", "run_0123456789abcdef")]
    [InlineData("Qwen3-0.6B", "run_x")]
    public void ARunKeyGivesBackItsBaseModelAndRunId(string model, string run)
    {
        string key = RunGrainKey.Of(model, run);
        Assert.Equal($"{model}/{run}", key);
        Assert.Equal((model, run), RunGrainKey.Parse(key));
    }

    [Theory, InlineData("run_only"), InlineData("/run_x"), InlineData("model/")]
    public void AKeyWithoutBothPartsIsRefused(string key) => Assert.Throws<FormatException>(() => RunGrainKey.Parse(key));

    [Theory]
    [InlineData(null, ClusterRole.Both), InlineData("both", ClusterRole.Both), InlineData("Gateway", ClusterRole.Gateway), InlineData("worker", ClusterRole.Worker)]
    public void RolesParse(string? text, ClusterRole role)
    {
        Assert.Equal(role, ClusterRoles.Parse(text));
        Assert.Equal(role != ClusterRole.Gateway, role.HostsModels());
        Assert.Equal(role != ClusterRole.Worker, role.ServesHttp());
    }

    [Fact]
    public void AnUnknownRoleIsRefusedNamingTheChoices() =>
        Assert.Contains("gateway, worker, both", Assert.Throws<ArgumentException>(() => ClusterRoles.Parse("leader")).Message);
}
