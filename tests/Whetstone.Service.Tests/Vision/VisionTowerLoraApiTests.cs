using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Vision;

/// <summary>train_vision_tower on the wire: off by default, reported back when on, and refused
/// naming the field where there is no tower to adapt or every weight trains anyway.</summary>
public class VisionTowerLoraApiTests
{
    [Fact]
    public async Task TowerLoraIsOptInAndRefusedWhereThereIsNoTower()
    {
        await using var server = await VisionServers.StartAsync();
        using var client = await TestServers.ClientAsync(server, "alice");

        var plain = await client.CreateLoraTrainingClientAsync(VisionServers.ModelName, rank: 4, seed: 1);
        Assert.False((await plain.GetInfoAsync()).TrainVisionTower);
        var tower = await client.CreateTrainingClientAsync(new CreateTrainingRunRequest(VisionServers.ModelName) { Rank = 4, TrainVisionTower = true });
        Assert.True((await tower.GetInfoAsync()).TrainVisionTower);
        // The SDK's LoRA shortcut carries the flag too, and its refusal.
        var sdkTower = await client.CreateLoraTrainingClientAsync(VisionServers.ModelName, rank: 4, seed: 1, trainVisionTower: true);
        var sdkInfo = await sdkTower.GetInfoAsync();
        Assert.True(sdkInfo.TrainVisionTower);
        Assert.Equal(4, sdkInfo.LoraRank);
        var sdkRefused = await Assert.ThrowsAsync<WhetstoneApiException>(() => client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, trainVisionTower: true));
        Assert.Equal(("train_vision_tower", System.Net.HttpStatusCode.BadRequest), (sdkRefused.Field, sdkRefused.StatusCode));

        foreach (var (request, reason) in new (CreateTrainingRunRequest, string)[]
        {
            (new CreateTrainingRunRequest(TestServers.ModelName) { Rank = 4, TrainVisionTower = true }, "has no vision tower"),
            (new CreateTrainingRunRequest(VisionServers.ModelName) { FullFineTuning = true, TrainVisionTower = true }, "full_fine_tuning is on"),
        })
        {
            var refused = await Assert.ThrowsAsync<WhetstoneApiException>(() => client.CreateTrainingClientAsync(request));
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("train_vision_tower", refused.Field);
            Assert.Contains(reason, refused.Message);
        }
    }
}
