using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// Bookkeeping around training: the caller's runs and checkpoints, publishing (making a
/// checkpoint visible to other tenants), expiry, downloads, and token/compute usage.
/// Checkpoints are named by their path, whet://&lt;run&gt;/weights/&lt;name&gt; or
/// whet://&lt;run&gt;/sampler_weights/&lt;name&gt;.
/// </summary>
public sealed class RestClient
{
    readonly ITransport _transport;

    internal RestClient(ITransport transport) => _transport = transport;

    public Task<TrainingRunList> ListTrainingRunsAsync(CancellationToken cancellationToken = default) =>
        _transport.GetAsync<TrainingRunList>(Routes.TrainingRuns, cancellationToken);

    public Task<TrainingRunInfo> GetTrainingRunAsync(string runId, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<TrainingRunInfo>(Routes.TrainingRun(runId), cancellationToken);

    public Task<CheckpointList> ListCheckpointsAsync(string runId, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<CheckpointList>(Routes.RunCheckpoints(runId), cancellationToken);

    public Task<CheckpointInfo> GetCheckpointAsync(string path, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<CheckpointInfo>(WithPath(Routes.Checkpoints, path), cancellationToken);

    public Task DeleteCheckpointAsync(string path, CancellationToken cancellationToken = default) =>
        _transport.SendAsync<object>(HttpMethod.Delete, WithPath(Routes.Checkpoints, path), null, cancellationToken);

    /// <summary>Makes the checkpoint readable (sampling, download, new runs) by other tenants.</summary>
    public Task PublishCheckpointAsync(string path, CancellationToken cancellationToken = default) =>
        _transport.SendAsync<object>(HttpMethod.Post, WithPath(Routes.CheckpointPublish, path), null, cancellationToken);

    public Task UnpublishCheckpointAsync(string path, CancellationToken cancellationToken = default) =>
        _transport.SendAsync<object>(HttpMethod.Post, WithPath(Routes.CheckpointUnpublish, path), null, cancellationToken);

    /// <summary>Lets the checkpoint expire <paramref name="ttl"/> from now; null keeps it until deleted.</summary>
    public Task SetCheckpointTtlAsync(string path, TimeSpan? ttl, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(HttpMethod.Post, WithPath(Routes.CheckpointTtl, path), new SetCheckpointTtlRequest(ttl?.TotalSeconds), cancellationToken);

    /// <summary>Opens the checkpoint's download as the server sends it; dispose the stream.</summary>
    public Task<Stream> DownloadCheckpointAsync(string path, CheckpointDownloadFormat format, CancellationToken cancellationToken = default) =>
        _transport.DownloadAsync(WithPath(Routes.CheckpointDownload, path) + "&format=" + FormatName(format), cancellationToken);

    /// <summary>Downloads the checkpoint to <paramref name="filePath"/>. The file is written
    /// under a temporary name and renamed when complete, so a failed download leaves no
    /// partial file behind under the final name.</summary>
    public async Task DownloadCheckpointToFileAsync(string path, CheckpointDownloadFormat format, string filePath, CancellationToken cancellationToken = default)
    {
        var partial = filePath + ".partial";
        try
        {
            await using (var source = await DownloadCheckpointAsync(path, format, cancellationToken).ConfigureAwait(false))
            await using (var target = File.Create(partial))
                await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            File.Move(partial, filePath, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    /// <summary>Recent scheduler cycles and queue depth per base model.</summary>
    public Task<SchedulerMetrics> GetMetricsAsync(CancellationToken cancellationToken = default) =>
        _transport.GetAsync<SchedulerMetrics>(Routes.Metrics, cancellationToken);

    public Task<UsageInfo> GetRunUsageAsync(string runId, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<UsageInfo>(Routes.RunUsage(runId), cancellationToken);

    /// <summary>Usage of every run of the caller's API key.</summary>
    public Task<UsageInfo> GetUsageAsync(CancellationToken cancellationToken = default) =>
        _transport.GetAsync<UsageInfo>(Routes.Usage, cancellationToken);

    static string WithPath(string route, string checkpointPath) => $"{route}?path={Uri.EscapeDataString(checkpointPath)}";

    static string FormatName(CheckpointDownloadFormat format) => format switch
    {
        CheckpointDownloadFormat.Peft => "peft",
        CheckpointDownloadFormat.Merged => "merged",
        CheckpointDownloadFormat.Gguf => "gguf",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Download format is Peft, Merged or Gguf."),
    };
}
