using Microsoft.Extensions.Logging;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>The background updater: every <see cref="PollInterval"/> it updates each reward model
/// whose settings make it due (batch_events waiting, or interval_seconds since its last version
/// with any waiting). Models with auto_update off are left to explicit updates.</summary>
internal sealed class RewardModelBackground : IAsyncDisposable
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;

    public RewardModelBackground(RewardModelService models, ILogger logger) => _loop = Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try { await models.UpdateDueAsync(_stop.Token); }
                catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e, "reward model background update"); }
            }
        }
        catch (OperationCanceledException) { }
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
