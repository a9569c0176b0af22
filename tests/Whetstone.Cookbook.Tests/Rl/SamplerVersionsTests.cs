using Whetstone.Cookbook.Rl;

namespace Whetstone.Cookbook.Tests.Rl;

public class SamplerVersionsTests
{
    [Fact]
    public async Task WaitsUntilAVersionRecentEnoughIsPublished()
    {
        var versions = new SamplerVersions<string>("v0", 0);
        Assert.Equal(0, (await versions.AtLeastAsync(-1)).Version);
        var waiting = versions.AtLeastAsync(2);
        await versions.Publish("v1", 1);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        await versions.Publish("v2", 2);
        Assert.Equal(2, (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Version);
        Assert.Throws<ArgumentException>(() => { _ = versions.Publish("again", 2); });
    }

    [Fact]
    public async Task ASupersededSamplerIsRetiredOnceNoBatchHoldsIt()
    {
        var retired = new List<string>();
        var versions = new SamplerVersions<string>("v0", 0, s => { retired.Add(s); return Task.CompletedTask; });
        await versions.Publish("v1", 1);
        Assert.Equal(["v0"], retired);                          // nobody held it

        var (held, version) = await versions.AcquireAsync(1);   // a batch samples from v1 …
        Assert.Equal(("v1", 1), (held, version));
        await versions.AcquireAsync(0);                          // … and another one
        await versions.Publish("v2", 2);
        Assert.Equal(["v0"], retired);                          // still held twice
        await versions.Release("v1");
        Assert.Equal(["v0"], retired);
        await versions.Release("v1");
        Assert.Equal(["v0", "v1"], retired);

        await versions.AcquireAsync(2);
        await versions.Release("v2");                            // the newest stays
        Assert.Equal(["v0", "v1"], retired);
    }
}
