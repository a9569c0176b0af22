using System.Net;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>get_server_capabilities and the tokenizer files, through the SDK against a running
/// server (both transports).</summary>
public class ServerInfoTests
{
    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task CapabilitiesListTheModelAndTheSdkBuildsTheServersTokenizer(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await TestServers.ClientAsync(server, "info");

        var capabilities = await client.GetServerCapabilitiesAsync();
        var model = Assert.Single(capabilities.SupportedModels);
        Assert.Equal(new SupportedModel(TestServers.ModelName, "qwen3", 256, SupportsLora: true, SupportsImages: false, SupportsFullFineTuning: true), model);

        var directory = await client.DownloadTokenizerAsync(TestServers.ModelName, Path.Combine(TestServers.NewDataDirectory(), "tok"));
        var downloaded = HuggingFaceTokenizer.Load(directory);
        var original = HuggingFaceTokenizer.Load(TestServers.Model);
        foreach (var text in new[] { "Hello, world!", "<|im_start|>user\nHi<|im_end|>", "naïve 日本" })
            Assert.Equal(original.Encode(text), downloaded.Encode(text));
        Assert.Equal(original.EosTokenIds, downloaded.EosTokenIds);
        Assert.Equal(original.ChatTemplate, downloaded.ChatTemplate);

        using var raw = TestServers.Raw(server, await TestServers.KeyAsync(server, "info2"));
        Assert.Equal(HttpStatusCode.NotFound, (await raw.GetAsync(ServerInfoRoutes.TokenizerFile(TestServers.ModelName, "config.json"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await raw.GetAsync(ServerInfoRoutes.TokenizerFile("no-such-model", "tokenizer.json"))).StatusCode);
        using var anonymous = server.Raw(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(ServerInfoRoutes.Capabilities)).StatusCode);
    }
}
