using Microsoft.Extensions.Logging;
using Orleans;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Cluster;

/// <summary>The checkpoint expiry sweep of a cluster (one process runs it in <see cref="WhetstoneServer"/>).
/// One activation for the cluster (key 0), so sweeps never overlap; every silo's
/// <see cref="ClusterTicker"/> asks it to sweep, so it is activated again on a surviving silo
/// when its own died, and a sweep runs at most once per interval however many silos ask.</summary>
[Alias("whetstone.expiry_sweep")]
internal interface IExpirySweepGrain : IGrainWithIntegerKey
{
    /// <summary>Sweeps if the last sweep is at least <paramref name="interval"/> old; true if it swept.</summary>
    [Alias("sweep_if_due")] Task<bool> SweepIfDue(TimeSpan interval);
}

internal sealed class ExpirySweepGrain(ServiceCore core, ILogger<ExpirySweepGrain> logger) : Grain, IExpirySweepGrain
{
    DateTimeOffset _last = DateTimeOffset.MinValue;

    public async Task<bool> SweepIfDue(TimeSpan interval)
    {
        var now = DateTimeOffset.UtcNow;
        if (now - _last < interval) return false;
        _last = now;
        try { await core.Checkpoints.ExpireAsync(now); }
        catch (Exception e) { logger.LogError(e, "expiring checkpoints"); }
        return true;
    }
}
