using System.IO.Compression;
using Whetstone.Client;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Formats.Gguf;
using Whetstone.Protocol;
using static TorchSharp.torch;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>GET /api/v1/checkpoints/download?format=gguf: the adapter merged into its base as one
/// GGUF file, which imports back to the same weights as the merged download (within f16 vs bf16
/// rounding) and differs from the base where the adapter trained.</summary>
public class GgufDownloadTests
{
    [Fact]
    public async Task AGgufDownloadImportsToTheMergedModelsWeights()
    {
        await using var server = await TestServers.StartAsync();
        string key = await TestServers.KeyAsync(server, "gwen");
        using var sdk = server.Client(key);
        var run = await sdk.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 4);
        for (int i = 0; i < 2; i++)
        {
            await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([11, 12, 13, 14, 15, 16, 17])], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.05 })).ResultAsync();
        }
        string path = (await (await run.SaveWeightsForSamplerAsync("g")).ResultAsync()).Path;
        string directory = Path.Combine(TestServers.NewDataDirectory(), "downloads");

        string Download(string format) => Path.Combine(directory, format);
        var rest = sdk.CreateRestClient();
        foreach (var (format, name) in new[] { (CheckpointDownloadFormat.Gguf, "gguf"), (CheckpointDownloadFormat.Merged, "merged") })
        {
            await using var zip = await rest.DownloadCheckpointAsync(path, format);
            ZipFile.ExtractToDirectory(zip, Download(name));
        }
        var gguf = Assert.Single(Directory.GetFiles(Download("gguf")));
        Assert.EndsWith(".gguf", gguf);
        Assert.Equal("GGUF"u8.ToArray(), File.ReadAllBytes(gguf)[..4]);
        var config = GgufImporter.Import(gguf, Path.Combine(directory, "imported"));
        Assert.Equal(32, config.HiddenSize);
        Assert.Equal(2, config.NumHiddenLayers);

        using var merged = new SafetensorsFile(Path.Combine(Download("merged"), "model.safetensors"));
        using var imported = new SafetensorsFile(Path.Combine(directory, "imported", "model.safetensors"));
        using var baseModel = new SafetensorsFile(Path.Combine(TestServers.Model, "model.safetensors"));
        var names = merged.TensorNames.Intersect(imported.TensorNames).ToArray();
        Assert.True(names.Length >= 2 * 7, $"only {names.Length} tensors in common");
        int changedByAdapter = 0;
        foreach (var name in names)
        {
            using var scope = NewDisposeScope();
            var m = merged.Read(name).to(ScalarType.Float64);
            var g = imported.Read(name).to(ScalarType.Float64);
            // bf16 keeps 8 mantissa bits, f16 11: the two roundings differ by at most ~2^-8 relative.
            double tolerance = m.abs().max().item<double>() * 1e-2 + 1e-6;
            Assert.True((m - g).abs().max().item<double>() <= tolerance, $"{name}: GGUF and merged differ beyond rounding");
            // (A trained unembedding unties lm_head from the base's shared embedding: only compare what the base has.)
            if (baseModel.TensorNames.Contains(name) && (g - baseModel.Read(name).to(ScalarType.Float64)).abs().max().item<double>() > tolerance)
                changedByAdapter++;
        }
        Assert.True(changedByAdapter > 0, "no tensor of the GGUF differs from the base: the adapter was not merged");
    }
}
