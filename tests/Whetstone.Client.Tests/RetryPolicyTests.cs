namespace Whetstone.Client.Tests;

public class RetryPolicyTests
{
    static readonly RetryPolicy Policy = new() { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };

    [Theory]
    [InlineData(1, 50, 100)]
    [InlineData(2, 100, 200)]
    [InlineData(3, 200, 400)]
    [InlineData(5, 500, 1000)]    // 1600 ms capped at 1 s
    [InlineData(200, 500, 1000)]  // no overflow for absurd counts
    public void BackoffDoublesPerAttemptWithHalfOfItRandomAndStopsAtMaxDelay(int failedAttempt, double lowestMs, double highestMs)
    {
        Assert.Equal(lowestMs, Policy.DelayBeforeRetry(failedAttempt, null, 0).TotalMilliseconds, 3);
        Assert.Equal(highestMs, Policy.DelayBeforeRetry(failedAttempt, null, 1).TotalMilliseconds, 3);
    }

    [Fact]
    public void RetryAfterIsWaitedWithUpToTenPercentJitterButNotBeyondMaxDelay()
    {
        var asked = TimeSpan.FromMilliseconds(400);
        Assert.Equal(400, Policy.DelayBeforeRetry(1, asked, 0).TotalMilliseconds, 3);
        Assert.Equal(440, Policy.DelayBeforeRetry(1, asked, 1).TotalMilliseconds, 3);
        Assert.Equal(1000, Policy.DelayBeforeRetry(1, TimeSpan.FromSeconds(30), 0.5).TotalMilliseconds, 3);
    }

    [Fact]
    public void APolicyWithoutAttemptsIsRefused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new HttpTransport(new Uri("http://127.0.0.1:1"), "key", new RetryPolicy { MaxAttempts = 0 }));
        Assert.Equal("MaxAttempts", error.ParamName);
    }
}
