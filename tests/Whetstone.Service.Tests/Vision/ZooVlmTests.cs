using Whetstone.Cookbook.Vision;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.Vision;

/// <summary>The shipped zoo VLM (models/whet-vl-nano) answers questions about pictures it never
/// saw in training better than chance, through the SDK.</summary>
public class ZooVlmTests
{
    static string ModelDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Whetstone.slnx"))) return Path.Combine(dir.FullName, "models", "whet-vl-nano");
        throw new InvalidOperationException($"no Whetstone.slnx above {AppContext.BaseDirectory}");
    }

    [Fact]
    public async Task WhetVlNanoAnswersHeldOutSceneQuestionsAboveChance()
    {
        var directory = ModelDirectory();
        await using var server = await TestServers.InMemoryAsync(TestServers.Options(TestServers.NewDataDirectory()) with { ModelDirectories = [directory] });
        using var client = await TestServers.ClientAsync(server, "alice");
        var sampler = await client.CreateSamplingClientAsync(baseModel: "whet-vl-nano");
        var accuracy = (await SceneEval.RunAsync(sampler, new ImageChat(HuggingFaceTokenizer.Load(directory)), scenes: 24, imageSize: 84))
            .ToDictionary(k => k.Kind);
        // Measured on these 24 held-out scenes (the model card reports 100): see the asserts' margins.
        Assert.True(accuracy["colour"].Accuracy >= COLOUR, $"colour {accuracy["colour"].Accuracy:P0}");
        Assert.True(accuracy["shape"].Accuracy >= SHAPE, $"shape {accuracy["shape"].Accuracy:P0}");
        Assert.True(accuracy["count"].Accuracy >= COUNT, $"count {accuracy["count"].Accuracy:P0}");
    }
}
