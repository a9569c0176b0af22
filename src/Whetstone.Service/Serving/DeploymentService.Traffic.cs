using Whetstone.Service.Auth;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Serving;

// Canary traffic splits: a candidate version answers a share of name@latest (see CanaryRouting).
internal sealed partial class DeploymentService
{
    public async Task<P.DeploymentInfo> SetTrafficAsync(Caller caller, string name, P.SetDeploymentTrafficRequest request)
    {
        var deployment = await context.Store.GetDeploymentAsync(caller.Tenant, name) ?? throw ApiError.NotFound("deployment", name);
        if (request.CandidateVersion is { } candidate)
        {
            var versions = await context.Store.ListDeploymentVersionsAsync(caller.Tenant, name);
            if (versions.All(v => v.Version != candidate))
                throw ApiError.BadRequest("candidate_version", $"= {candidate} is not a version of '{name}' (versions: {string.Join(", ", versions.Select(v => v.Version))})");
            if (candidate == deployment.CurrentVersion)
                throw ApiError.BadRequest("candidate_version", $"= {candidate} is already the current version of '{name}'");
            if (!double.IsFinite(request.Percent) || request.Percent < 0 || request.Percent > 100)
                throw ApiError.BadRequest("percent", $"= {request.Percent} must be from 0 to 100");
        }
        await context.Store.SetDeploymentTrafficAsync(caller.Tenant, name, request.CandidateVersion, request.Percent);
        return await GetAsync(caller, name);
    }

    /// <summary>Adds a sampler checkpoint as the next version without making it current: a canary candidate.</summary>
    public async Task<int> AddCandidateAsync(Caller caller, string name, string checkpoint)
    {
        _ = await context.Store.GetDeploymentAsync(caller.Tenant, name) ?? throw ApiError.NotFound("deployment", name);
        await ServableCheckpointAsync(caller, checkpoint, "checkpoint");
        return await context.Store.AddDeploymentVersionAsync(caller.Tenant, name, checkpoint, DateTimeOffset.UtcNow);
    }
}
