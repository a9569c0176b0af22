using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Serving;

/// <summary>Deployment aliases: a tenant's stable name for "the adapter that answers now".
/// Promoting adds a version and points name@latest at it; rolling back points it at an earlier
/// one. Requests resolve the alias when they arrive, so a change takes effect on the next
/// request without a restart. Only readable LoRA sampler checkpoints can be promoted.</summary>
internal sealed partial class DeploymentService(ServiceContext context)
{
    public async Task<P.DeploymentInfo> CreateAsync(Caller caller, P.CreateDeploymentRequest request)
    {
        CheckName(request.Name);
        if (request.Checkpoint is not null) await ServableCheckpointAsync(caller, request.Checkpoint, "checkpoint");
        if (!await context.Store.InsertDeploymentAsync(new DeploymentRecord(caller.Tenant, request.Name, DateTimeOffset.UtcNow, 0)))
            throw ApiError.Conflict($"deployment '{request.Name}' already exists");
        if (request.Checkpoint is not null)
            await context.Store.PromoteDeploymentAsync(caller.Tenant, request.Name, request.Checkpoint, DateTimeOffset.UtcNow);
        return await GetAsync(caller, request.Name);
    }

    public async Task<P.DeploymentInfo> GetAsync(Caller caller, string name)
    {
        var deployment = await context.Store.GetDeploymentAsync(caller.Tenant, name) ?? throw ApiError.NotFound("deployment", name);
        return await InfoAsync(deployment);
    }

    public async Task<P.DeploymentList> ListAsync(Caller caller)
    {
        var list = new List<P.DeploymentInfo>();
        foreach (var d in await context.Store.ListDeploymentsAsync(caller.Tenant)) list.Add(await InfoAsync(d));
        return new P.DeploymentList(list);
    }

    public async Task<P.DeploymentInfo> PromoteAsync(Caller caller, string name, P.PromoteDeploymentRequest request)
    {
        _ = await context.Store.GetDeploymentAsync(caller.Tenant, name) ?? throw ApiError.NotFound("deployment", name);
        await ServableCheckpointAsync(caller, request.Checkpoint, "checkpoint");
        await context.Store.PromoteDeploymentAsync(caller.Tenant, name, request.Checkpoint, DateTimeOffset.UtcNow);
        return await GetAsync(caller, name);
    }

    public async Task<P.DeploymentInfo> RollbackAsync(Caller caller, string name, P.RollbackDeploymentRequest request)
    {
        var deployment = await context.Store.GetDeploymentAsync(caller.Tenant, name) ?? throw ApiError.NotFound("deployment", name);
        var versions = await context.Store.ListDeploymentVersionsAsync(caller.Tenant, name);
        int target;
        if (request.Version is { } v)
        {
            if (versions.All(x => x.Version != v))
                throw ApiError.BadRequest("version", $"= {v} is not a version of '{name}' (versions: {string.Join(", ", versions.Select(x => x.Version))})");
            target = v;
        }
        else
        {
            target = versions.Where(x => x.Version < deployment.CurrentVersion).Select(x => x.Version).DefaultIfEmpty(0).Max();
            if (target == 0) throw ApiError.BadRequest("version", $"'{name}' has no version before v{deployment.CurrentVersion} to roll back to");
        }
        await context.Store.SetDeploymentVersionAsync(caller.Tenant, name, target);
        return await GetAsync(caller, name);
    }

    /// <summary>The checkpoint path name@latest or name@vN stands for, for this tenant, and under a
    /// canary split of name@latest the arm that the request with <paramref name="keys"/> falls in.</summary>
    public async Task<(string Checkpoint, int Version, string? Arm)> ResolveAsync(Caller caller, string alias, string field, CanaryRouting.Keys? keys = null)
    {
        int at = alias.LastIndexOf('@');
        string name = alias[..at], version = alias[(at + 1)..];
        var deployment = await context.Store.GetDeploymentAsync(caller.Tenant, name) ?? throw ModelNotFound(alias);
        var versions = await context.Store.ListDeploymentVersionsAsync(caller.Tenant, name);
        string? arm = null;
        if (version == "latest" && deployment.CandidateVersion is { } candidate)
            arm = await ArmOfAsync(caller.Tenant, name, deployment.CandidatePercent, keys);
        int wanted = arm == CanaryRouting.Candidate ? deployment.CandidateVersion!.Value
            : version == "latest" ? deployment.CurrentVersion
            : version.Length > 1 && version[0] == 'v' && int.TryParse(version[1..], out int n) ? n
            : throw ApiError.BadRequest(field, $"'{alias}': a deployment is named name@latest or name@vN");
        var record = versions.FirstOrDefault(x => x.Version == wanted)
            ?? throw (wanted == 0 ? ApiError.BadRequest(field, $"deployment '{name}' has no version yet: promote a checkpoint first") : ModelNotFound(alias));
        return (record.CheckpointPath, record.Version, arm);
    }

    public static ApiError ModelNotFound(string model) =>
        new(System.Net.HttpStatusCode.NotFound, "model_not_found", $"The model '{model}' does not exist or you do not have access to it.", "model");

    async Task ServableCheckpointAsync(Caller caller, string path, string field)
    {
        var (checkpoint, _) = await Checkpoints.ReadableAsync(context, caller, path, field);
        if (checkpoint.Kind != CheckpointPath.SamplerWeights)
            throw ApiError.BadRequest(field, "is a training state; deploy a sampler_weights checkpoint (save_weights_for_sampler)");
    }

    static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw ApiError.BadRequest("name", $"'{name}' must be 1–64 characters of letters, digits, '-', '_' or '.'");
    }

    async Task<P.DeploymentInfo> InfoAsync(DeploymentRecord d)
    {
        var versions = await context.Store.ListDeploymentVersionsAsync(d.Tenant, d.Name);
        return new P.DeploymentInfo(d.Name, d.CurrentVersion, versions.Select(v => new P.DeploymentVersionInfo(v.Version, v.CheckpointPath, v.CreatedAt)).ToArray())
        {
            CreatedAt = d.CreatedAt, CandidateVersion = d.CandidateVersion, CandidatePercent = d.CandidatePercent,
        };
    }
}
