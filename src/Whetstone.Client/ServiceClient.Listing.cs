using Whetstone.Protocol;

namespace Whetstone.Client;

public sealed partial class ServiceClient
{
    /// <summary>Tinker's list_training_runs: one page of the caller's runs, newest first, with
    /// the cursor (offset, limit, total count) to ask for the next.</summary>
    public Task<TrainingRunList> ListTrainingRunsAsync(int limit = 20, int offset = 0, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<TrainingRunList>(PagePath(Routes.TrainingRuns, limit, offset), cancellationToken);

    /// <summary>Tinker's list_checkpoints of one run, paged (oldest first).</summary>
    public Task<CheckpointList> ListCheckpointsAsync(string runId, int limit = 100, int offset = 0, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<CheckpointList>(PagePath(Routes.RunCheckpoints(runId), limit, offset), cancellationToken);

    /// <summary>Tinker's list_user_checkpoints: the caller's checkpoints across all their runs,
    /// newest first, paged.</summary>
    public Task<UserCheckpointList> ListUserCheckpointsAsync(int limit = 100, int offset = 0, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<UserCheckpointList>(PagePath(ListingRoutes.UserCheckpoints, limit, offset), cancellationToken);

    /// <summary>Tinker's weights info by path: the base model behind a whet:// checkpoint the
    /// caller may read, and whether it is a LoRA adapter (with its rank) or full weights.</summary>
    public Task<WeightsInfo> GetWeightsInfoAsync(string checkpointPath, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<WeightsInfo>($"{ListingRoutes.WeightsInfo}?path={Uri.EscapeDataString(checkpointPath)}", cancellationToken);

    // The server checks these too; checking here names the argument before a round trip.
    static string PagePath(string route, int limit, int offset)
    {
        if (limit is < 1 or > ListingRoutes.MaxLimit) throw new ArgumentOutOfRangeException(nameof(limit), limit, $"from 1 to {ListingRoutes.MaxLimit}");
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return ListingRoutes.Page(route, limit, offset);
    }
}
