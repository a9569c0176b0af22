using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Runs;

/// <summary>Who may read a checkpoint: its tenant, or anyone once it is published. Everyone
/// else is told it does not exist (404), not that it is forbidden.</summary>
internal static class Checkpoints
{
    public static async Task<(CheckpointRecord Checkpoint, RunRecord Run)> ReadableAsync(ServiceContext context, Caller caller, string path, string field)
    {
        CheckpointPath.Parse(path, field);
        var checkpoint = await context.Store.GetCheckpointAsync(path);
        if (checkpoint is null || (checkpoint.Tenant != caller.Tenant && !checkpoint.Published)) throw ApiError.NotFound("checkpoint", path);
        var run = await context.Store.GetRunAsync(checkpoint.RunId) ?? throw ApiError.NotFound("checkpoint", path);
        return (checkpoint, run);
    }

    public static async Task<CheckpointRecord> OwnedAsync(ServiceContext context, Caller caller, string path)
    {
        CheckpointPath.Parse(path);
        var checkpoint = await context.Store.GetCheckpointAsync(path);
        if (checkpoint is null || checkpoint.Tenant != caller.Tenant) throw ApiError.NotFound("checkpoint", path);
        return checkpoint;
    }
}
