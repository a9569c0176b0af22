using System.Net;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Serving;

/// <summary>What answers a served request: a base model, optionally with a sampler checkpoint's
/// adapter (held while the request decodes), or a full fine-tuning checkpoint's whole model, and
/// the deployment version it came through.</summary>
internal sealed class ServedTarget(string baseModel, string? checkpointPath, string? deployment, AdapterLease? lease, FullModelLease? fullModel = null)
    : IDisposable
{
    public string BaseModel { get; } = baseModel;
    public string? CheckpointPath { get; } = checkpointPath;
    /// <summary>name@vN when the request named a deployment (name@latest resolves to its version).</summary>
    public string? Deployment { get; } = deployment;
    /// <summary>Under a canary split of name@latest, the arm that answers ("stable" or "candidate").</summary>
    public string? Arm { get; init; }
    /// <summary>The sampler checkpoint's adapter, by its key on the base model's engine worker; null: none.</summary>
    public string? AdapterKey => lease?.Key;
    /// <summary>The whole model of a full fine-tuning checkpoint, by its key on the worker; null: the base model (with <see cref="AdapterKey"/>).</summary>
    public string? ModelKey => fullModel?.Key;

    /// <summary>Another hold on the whole model for the decode call, which may outlive this request's handler.</summary>
    public IDisposable? HoldModel() => fullModel?.Share();

    public void Dispose()
    {
        lease?.Dispose();
        fullModel?.Dispose();
    }
}

/// <summary>Resolves the OpenAI "model" field: a served base model's name, a sampler checkpoint's
/// whet:// path (the caller's own or a published one; sampleable while its run keeps training),
/// or one of the caller's deployments (name@latest, name@vN). Anything else, and anything of
/// another tenant, is "model not found".</summary>
internal sealed class ServedModelResolver(ServiceContext context, DeploymentService deployments, AdapterCache adapters, FullModelSamplers fullModels)
{
    const string Scheme = "whet://";

    /// <param name="keys">What picks the arm of a canary split (<see cref="CanaryRouting.Keys"/>; null: random).</param>
    public async Task<ServedTarget> ResolveAsync(Caller caller, string model, CanaryRouting.Keys? keys = null)
    {
        if (context.Models.Contains(model)) return new ServedTarget(model, null, null, null);
        string path = model;
        string? deployment = null, arm = null;
        if (!model.StartsWith(Scheme, StringComparison.Ordinal) && model.Contains('@'))
        {
            (var checkpoint, int version, arm) = await deployments.ResolveAsync(caller, model, "model", keys);
            path = checkpoint;
            deployment = $"{model[..model.LastIndexOf('@')]}@v{version}";
        }
        if (!path.StartsWith(Scheme, StringComparison.Ordinal)) throw DeploymentService.ModelNotFound(model);
        Persistence.CheckpointRecord record;
        Persistence.RunRecord run;
        try { (record, run) = await Checkpoints.ReadableAsync(context, caller, path, "model"); }
        catch (ApiError e) when (e.Status == HttpStatusCode.NotFound) { throw DeploymentService.ModelNotFound(model); }
        if (record.Kind != CheckpointPath.SamplerWeights)
            throw ApiError.BadRequest("model", $"'{path}' is a training state; serve a sampler_weights checkpoint (save_weights_for_sampler)");
        // The creation time is in the key: a checkpoint saved again under its name is a new adapter or model.
        if (run.FullFineTuning)
            return new ServedTarget(run.BaseModel, path, deployment, null,
                await fullModels.AcquireAsync(run.BaseModel, record.Directory, $"{path}#{record.CreatedAt.UtcTicks}", "model")) { Arm = arm };
        var lease = await adapters.AcquireAsync(run.BaseModel, record.Directory, $"{path}#{record.CreatedAt.UtcTicks}");
        return new ServedTarget(run.BaseModel, path, deployment, lease) { Arm = arm };
    }
}
