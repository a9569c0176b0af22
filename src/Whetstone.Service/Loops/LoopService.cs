using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Loops;

/// <summary>Loops as the API sees them: create on one of the caller's deployments, read, change
/// settings or pause/resume, delete, and the lineage. Another tenant's loop is "not found", and a
/// loop can only name a deployment of its own tenant. Pausing or deleting a loop takes its canary
/// off the deployment at once, so the deployment keeps serving its last promoted version.</summary>
internal sealed class LoopService(ServiceContext context)
{
    public async Task<LoopInfo> CreateAsync(Caller caller, CreateLoopRequest request)
    {
        if (string.IsNullOrEmpty(request.Deployment)) throw ApiError.BadRequest("deployment", "is required");
        var deployment = await context.Store.GetDeploymentAsync(caller.Tenant, request.Deployment) ?? throw ApiError.NotFound("deployment", request.Deployment);
        if (deployment.CurrentVersion == 0) throw ApiError.BadRequest("deployment", $"'{request.Deployment}' has no version yet: promote a checkpoint first");
        var spec = new LoopSpec(request.Trigger ?? new(), request.Rl ?? new(), request.Gate ?? new(), request.Canary ?? new()).Validated();
        if ((await context.Store.ListLoopsAsync(caller.Tenant)).Any(l => l.Deployment == request.Deployment))
            throw ApiError.Conflict($"deployment '{request.Deployment}' already has a loop");
        var record = new LoopRecord("loop_" + Guid.NewGuid().ToString("N")[..16], caller.Tenant, request.Deployment, spec.ToJson(), DateTimeOffset.UtcNow);
        await context.Store.InsertLoopAsync(record);
        return await InfoAsync(record);
    }

    public async Task<LoopInfo> GetAsync(Caller caller, string id) => await InfoAsync(await OwnedAsync(caller, id));

    public async Task<LoopList> ListAsync(Caller caller)
    {
        var list = new List<LoopInfo>();
        foreach (var l in await context.Store.ListLoopsAsync(caller.Tenant)) list.Add(await InfoAsync(l));
        return new LoopList(list);
    }

    public async Task<LoopInfo> UpdateAsync(Caller caller, string id, UpdateLoopRequest request)
    {
        var loop = await OwnedAsync(caller, id);
        var old = LoopSpec.FromJson(loop.SpecJson);
        var spec = new LoopSpec(request.Trigger ?? old.Trigger, request.Rl ?? old.Rl, request.Gate ?? old.Gate, request.Canary ?? old.Canary).Validated();
        string status = request.Status ?? loop.Status;
        if (status is not ("active" or "paused")) throw ApiError.BadRequest("status", $"'{status}' must be active or paused");
        await context.Store.UpdateLoopSettingsAsync(id, spec.ToJson(), status);
        if (status == "paused") await TakeCanaryOffAsync(loop);
        return await GetAsync(caller, id);
    }

    public async Task DeleteAsync(Caller caller, string id)
    {
        var loop = await OwnedAsync(caller, id);
        await context.Store.UpdateLoopSettingsAsync(id, loop.SpecJson, "deleted");
        await TakeCanaryOffAsync(loop);
    }

    public async Task<LoopLineage> LineageAsync(Caller caller, string id)
    {
        var loop = await OwnedAsync(caller, id);
        var iterations = await context.Store.ListLoopIterationsAsync(id);
        return new LoopLineage(id, loop.Deployment, iterations.Select(ToProtocol).ToArray());
    }

    // The split is the only way a loop changes what name@latest answers before a promotion.
    async Task TakeCanaryOffAsync(LoopRecord loop)
    {
        if (loop.State != "canary") return;
        var deployment = await context.Store.GetDeploymentAsync(loop.Tenant, loop.Deployment);
        var current = (await context.Store.ListLoopIterationsAsync(loop.Id)).LastOrDefault();
        if (deployment?.CandidateVersion is { } v && v == current?.DeploymentVersion)
            await context.Store.SetDeploymentTrafficAsync(loop.Tenant, loop.Deployment, null, 0);
    }

    async Task<LoopRecord> OwnedAsync(Caller caller, string id)
    {
        var loop = await context.Store.GetLoopAsync(id);
        return loop is not null && loop.Tenant == caller.Tenant ? loop : throw ApiError.NotFound("loop", id);
    }

    async Task<LoopInfo> InfoAsync(LoopRecord l)
    {
        var spec = LoopSpec.FromJson(l.SpecJson);
        var current = l.State == "idle" ? null : (await context.Store.ListLoopIterationsAsync(l.Id)).LastOrDefault();
        return new LoopInfo(l.Id, l.Deployment, l.Status, l.State, l.Iteration)
        {
            CreatedAt = l.CreatedAt, FeedbackConsumed = l.FeedbackConsumed, FeedbackCursor = l.FeedbackCursor, LastIterationAt = l.LastIterationAt,
            Trigger = spec.Trigger, Rl = spec.Rl, Gate = spec.Gate, Canary = spec.Canary,
            Current = current is null ? null : ToProtocol(current),
        };
    }

    public static LoopIterationInfo ToProtocol(LoopIterationRecord r) => new(r.Iteration, r.Stage, r.StartedAt)
    {
        FeedbackIds = JsonSerializer.Deserialize<string[]>(r.FeedbackIdsJson)!, DeployedVersion = r.DeployedVersion, RmVersion = r.RmVersion,
        CandidateRun = r.CandidateRun, PolicyCheckpoint = r.PolicyCheckpoint, DeploymentVersion = r.DeploymentVersion, Outcome = r.Outcome,
        Reason = r.Reason, FinishedAt = r.FinishedAt,
        Metrics = r.MetricsJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, double>>(r.MetricsJson),
    };
}
