using Whetstone.Cookbook.Rl;

namespace Whetstone.Cookbook.Tests.Rl;

public class SamplerVersionsTests
{
    [Fact]
    public async Task WaitsUntilAVersionRecentEnoughIsPublished()
    {
        var versions = new SamplerVersions(null!, 0);
        Assert.Equal(0, (await versions.AtLeastAsync(-1)).Version);
        var waiting = versions.AtLeastAsync(2);
        versions.Publish(null!, 1);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        versions.Publish(null!, 2);
        Assert.Equal(2, (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Version);
        Assert.Throws<ArgumentException>(() => versions.Publish(null!, 2));
    }
}
