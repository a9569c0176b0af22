using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Scheduling;

namespace Whetstone.Service.Tests.Scheduling;

public sealed class RequestFuturesTests
{
    static readonly Caller Pat = new("pat", "key_pat", IsAdmin: false);

    /// <summary>Issue #19: a second Track of the same id replaced the first, and whoever waited on
    /// the id then waited on the second task. It is refused now, and the first future still answers.</summary>
    [Fact]
    public async Task AnIdIsTrackedOnceAndTheFirstFutureKeepsAnswering()
    {
        var futures = new RequestFutures();
        var work = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        futures.Track("req_1", work.Task, Pat.Tenant, r => r);

        var never = new TaskCompletionSource<object>().Task;
        var refused = Assert.Throws<InvalidOperationException>(() => futures.Track("req_1", never, Pat.Tenant, r => r));
        Assert.Contains("req_1", refused.Message);
        Assert.True(futures.IsTracked("req_1"));
        Assert.False(futures.IsTracked("req_2"));

        work.SetResult(42);
        var answer = await futures.WaitAsync("req_1", Pat, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(FutureStatus.Done, answer.Status);
        Assert.Equal(42, answer.Result!.Value.GetInt32());
    }
}
