using System.Net;
using System.Net.Http.Json;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>Tinker's get_info on a run and weights info by checkpoint path, through the SDK
/// against a running in-memory server.</summary>
public class RunInfoTests
{
    [Fact]
    public async Task GetInfoAndWeightsInfoTellLoraFromFullAndTheRank()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        using var client = await TestServers.ClientAsync(server, "info-owner");
        var lora = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, trainMlp: false);
        var full = await client.CreateTrainingClientAsync(new CreateTrainingRunRequest(TestServers.ModelName) { FullFineTuning = true });

        var loraInfo = await lora.GetInfoAsync();
        Assert.Equal((TestServers.ModelName, "qwen3", true, (int?)4), (loraInfo.BaseModel, loraInfo.Architecture, loraInfo.IsLora, loraInfo.LoraRank));
        var fullInfo = await full.GetInfoAsync();
        Assert.Equal((TestServers.ModelName, "qwen3", false, (int?)null), (fullInfo.BaseModel, fullInfo.Architecture, fullInfo.IsLora, fullInfo.LoraRank));
        // The run list carries the same facts.
        var listed = (await client.ListTrainingRunsAsync()).Runs.Single(r => r.RunId == lora.RunId);
        Assert.Equal((true, (int?)4, "qwen3"), (listed.IsLora, listed.LoraRank, listed.Architecture));

        var adapter = (await (await lora.SaveWeightsForSamplerAsync("adapter")).ResultAsync()).Path;
        var state = (await (await lora.SaveStateAsync("state")).ResultAsync()).Path;
        var whole = (await (await full.SaveWeightsForSamplerAsync("whole")).ResultAsync()).Path;
        Assert.Equal(new WeightsInfo(TestServers.ModelName, IsLora: true, LoraRank: 4), await client.GetWeightsInfoAsync(adapter),
            new WeightsInfoShape());
        var adapterInfo = await client.GetWeightsInfoAsync(adapter);
        Assert.Equal((true, false, true), (adapterInfo.TrainAttn, adapterInfo.TrainMlp, adapterInfo.TrainUnembed));
        Assert.Equal(new WeightsInfo(TestServers.ModelName, IsLora: true, LoraRank: 4), await client.GetWeightsInfoAsync(state), new WeightsInfoShape());
        Assert.Equal(new WeightsInfo(TestServers.ModelName, IsLora: false, LoraRank: null), await client.GetWeightsInfoAsync(whole), new WeightsInfoShape());

        // Another tenant: the run and the unpublished checkpoint do not exist; once published, its weights info is readable.
        using var other = await TestServers.ClientAsync(server, "info-stranger");
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<WhetstoneApiException>(() => other.CreateRestClient().GetTrainingRunAsync(lora.RunId))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<WhetstoneApiException>(() => other.GetWeightsInfoAsync(adapter))).StatusCode);
        await client.CreateRestClient().PublishCheckpointAsync(adapter);
        Assert.Equal(4, (await other.GetWeightsInfoAsync(adapter)).LoraRank);
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<WhetstoneApiException>(() => other.GetWeightsInfoAsync(state))).StatusCode);

        // A path that is not a whet:// checkpoint path is a 400 naming the field.
        using var raw = TestServers.Raw(server, await TestServers.KeyAsync(server, "info-owner"));
        var response = await raw.GetAsync($"{ListingRoutes.WeightsInfo}?path={Uri.EscapeDataString("https://example.com/x")}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("path", (await response.Content.ReadFromJsonAsync<ErrorResponse>(ProtocolJson.Options))!.Error.Field);
    }

    /// <summary>Compares the three facts Tinker's WeightsInfoResponse names.</summary>
    sealed class WeightsInfoShape : IEqualityComparer<WeightsInfo>
    {
        public bool Equals(WeightsInfo? x, WeightsInfo? y) => (x!.BaseModel, x.IsLora, x.LoraRank) == (y!.BaseModel, y.IsLora, y.LoraRank);
        public int GetHashCode(WeightsInfo obj) => obj.BaseModel.GetHashCode();
    }
}
