namespace Whetstone.Service.Tests.Cluster;

/// <summary>Waits of the cluster tests, each with a limit: a call that never completes (a lost
/// message, a future nobody completes) fails the test with a message naming what it waited for,
/// instead of hanging the test run. The limits are generous (a loaded 2-core machine); what they
/// catch is "never".</summary>
internal static class Bounded
{
    /// <summary>The limit of a whole cluster test ([Fact(Timeout = …)]; xunit enforces it in the
    /// cluster collection, which runs without parallelism): ten times what the slowest takes
    /// alone on a loaded 2-core machine, so a failure means a hang, not a slow machine.</summary>
    public const int TestMilliseconds = 10 * 60 * 1000;

    /// <summary><paramref name="call"/>'s result, or a <see cref="TimeoutException"/> naming
    /// <paramref name="what"/> after <paramref name="limit"/> (the call's token is then cancelled).</summary>
    public static async Task<T> WithinAsync<T>(Func<CancellationToken, Task<T>> call, TimeSpan limit, string what)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var task = call(cancel.Token);
        try { return await task.WaitAsync(limit); }
        catch (TimeoutException)
        {
            cancel.Cancel();
            throw new TimeoutException($"{what} did not finish within {limit.TotalSeconds:0} s");
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, or fails naming <paramref name="what"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await WithinAsync(_ => condition(), limit, $"{what}: a check"))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: not seen within {limit.TotalSeconds:0} s");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
