using Whetstone.Protocol;
using Whetstone.Service.Loops;

namespace Whetstone.Service.Serving;

// How a canary split routes: by request or by user, as the deployment's loop says.
internal sealed partial class DeploymentService
{
    /// <summary>The canary.split of the loop on this deployment ("request" or "user"); "user" when it
    /// has none (a split set by hand through the traffic API routes by user, as it always did). Read
    /// only while a split is on, so requests without a canary cost no extra query.</summary>
    async Task<string> SplitOfAsync(string tenant, string name)
    {
        var loop = (await context.Store.ListLoopsAsync(tenant)).FirstOrDefault(l => l.Deployment == name);
        return loop is null ? LoopCanarySettings.SplitByUser : LoopSpec.FromJson(loop.SpecJson).Canary.Split;
    }

    async Task<string> ArmOfAsync(string tenant, string name, double percent, CanaryRouting.Keys? keys)
    {
        string? key = keys is null ? null : await SplitOfAsync(tenant, name) == LoopCanarySettings.SplitByRequest ? keys.PerRequest : keys.PerUser;
        return CanaryRouting.ToCandidate(name, key, percent) ? CanaryRouting.Candidate : CanaryRouting.Stable;
    }
}
