using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Vision;

/// <summary>A server with a tiny random Qwen2.5-VL (as `whet init-model --family qwen2_5_vl`
/// writes it) next to the tiny text model.</summary>
internal static class VisionServers
{
    public const string ModelName = "tiny-qwen2-vl";

    static readonly Lazy<string> ModelDirectory = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-service-tests", "models", ModelName);
        if (!File.Exists(Path.Combine(directory, "config.json")))
            RandomModelWriter.Write(directory, new RandomModelSpec
            {
                Family = ModelFamily.Qwen2, HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 256,
                Seed = 7, Vision = new RandomVisionSpec(),
            });
        return directory;
    });

    public static VisionConfig Vision => ModelConfig.Load(ModelDirectory.Value).Vision!;

    public static Task<TestHost> StartAsync() =>
        TestHost.InMemoryAsync(TestServers.Options(TestServers.NewDataDirectory()) with { ModelDirectories = [TestServers.Model, ModelDirectory.Value] });
}
