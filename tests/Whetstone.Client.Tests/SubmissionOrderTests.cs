namespace Whetstone.Client.Tests;

public class SubmissionOrderTests
{
    [Fact]
    public async Task ALaterSubmissionStartsOnlyAfterTheEarlierOneFinished()
    {
        var order = new SubmissionOrder();
        var firstCanFinish = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondStarted = false;

        var first = order.Run(() => firstCanFinish.Task, default);
        var second = order.Run(() => { secondStarted = true; return Task.FromResult(2); }, default);
        await Task.Delay(100);
        Assert.False(secondStarted);

        firstCanFinish.SetResult(1);
        Assert.Equal(2, await second);
        Assert.Equal(1, await first);
    }

    [Fact]
    public async Task AFailedSubmissionDoesNotBlockTheNext()
    {
        var order = new SubmissionOrder();

        var failed = order.Run<int>(() => throw new InvalidOperationException("refused"), default);
        var next = order.Run(() => Task.FromResult(2), default);

        await Assert.ThrowsAsync<InvalidOperationException>(() => failed);
        Assert.Equal(2, await next);
    }

    [Fact]
    public async Task ASubmissionCancelledWhileQueuedDoesNotLetTheNextOvertake()
    {
        var order = new SubmissionOrder();
        var firstCanFinish = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancellation = new CancellationTokenSource();
        var thirdStarted = false;

        var first = order.Run(() => firstCanFinish.Task, default);
        var cancelled = order.Run(() => Task.FromResult(2), cancellation.Token);
        var third = order.Run(() => { thirdStarted = true; return Task.FromResult(3); }, default);
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await Task.Delay(100);
        Assert.False(thirdStarted);

        firstCanFinish.SetResult(1);
        Assert.Equal(3, await third);
        Assert.Equal(1, await first);
    }
}
