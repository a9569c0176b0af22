using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Fuzzing;

/// <summary>What the fuzzer found, each pinned by a plain test.</summary>
public class FuzzFoundBugsTests
{
    [Theory]
    [InlineData("""{"data":[{"model_input":{"chunks":[{"tokens":[5,6,7]}]},"loss_fn_inputs":{}}],"loss_fn":"cross_entropy"}""", "data[0].model_input.chunks[0].type")]
    [InlineData("""{"data":[{"model_input":{"chunks":[{"type":"encoded_text","tokens":[5,6]},{"tokens":[7]}]},"loss_fn_inputs":{}}],"loss_fn":"cross_entropy"}""", "data[0].model_input.chunks[1].type")]
    public async Task APromptChunkWithoutItsTypeIsA400NamingTheChunksTypeNotA500(string body, string field)
    {
        await using var server = await TestServers.StartAsync();
        var key = await TestServers.KeyAsync(server, "fuzzed");
        using var client = server.Client(key);
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        using var raw = TestServers.Raw(server, key);
        var response = await raw.PostAsync(Routes.ForwardBackward(run.RunId), new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (string?)JsonNode.Parse(text)!["error"]!["field"]);
    }
}
