using System.Text.Json.Nodes;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Tests.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Formats;

public class MergedModelWriterTests
{
    [Theory]
    [InlineData(ModelFamily.Llama, false, false)]
    [InlineData(ModelFamily.Qwen3, true, false)]
    [InlineData(ModelFamily.Qwen2, true, true)]
    public void MergedModelEqualsBaseWithAdapter(ModelFamily family, bool tied, bool sharded)
    {
        var config = TestModels.Config(family, tied);
        var baseDirectory = TestModels.WriteCheckpoint(config, seed: 3);
        using var network = TestModels.LoadNetwork(baseDirectory);
        using var adapter = TrainingTestData.RandomAdapter(network, new LoraConfig { Rank = 4, Alpha = 8 }, seed: 6);
        var merged = Path.Combine(TestModels.TempDirectory(), "merged");
        MergedModelWriter.Write(baseDirectory, network, adapter, merged, maxShardBytes: sharded ? 20_000 : null);

        using var mergedNetwork = TestModels.LoadNetwork(merged);
        using (var scope = NewDisposeScope())
        {
            var tokens = TestModels.RandomTokens(2, 9, config.VocabSize, seed: 5);
            var adapters = AdapterBatch.For([adapter, adapter]);
            var expected = network.Logits(network.Forward(tokens, adapters: adapters), adapters);
            var actual = mergedNetwork.Logits(mergedNetwork.Forward(tokens));
            Assert.True((expected - actual).abs().max().item<float>() < 1e-4, $"|Δlogits| = {(expected - actual).abs().max().item<float>():E3}");
            Assert.True((expected - network.Logits(network.Forward(tokens))).abs().max().item<float>() > 1e-2);
        }

        // Adapting a tied lm_head unties it; the embedding itself stays the base's.
        var mergedConfig = ModelConfig.Load(merged);
        Assert.False(mergedConfig.TieWordEmbeddings);
        Assert.Equal(sharded, File.Exists(Path.Combine(merged, "model.safetensors.index.json")));
        using var tensorScope = NewDisposeScope();
        using var before = new CheckpointTensors(baseDirectory);
        using var after = new CheckpointTensors(merged);
        Assert.True(after.Contains("lm_head.weight"));
        long[] embedding = [config.VocabSize, config.HiddenSize];
        Assert.True(before.Read("model.embed_tokens.weight", embedding, ScalarType.Float32)
            .eq(after.Read("model.embed_tokens.weight", embedding, ScalarType.Float32)).all().item<bool>());
        Assert.True(before.Read("model.norm.weight", [config.HiddenSize], ScalarType.Float32)
            .eq(after.Read("model.norm.weight", [config.HiddenSize], ScalarType.Float32)).all().item<bool>());
        Assert.Equal(before.Names.Count() + (tied ? 1 : 0), after.Names.Count());
    }

    [Fact]
    public void TiedModelWithoutAnUnembeddingAdapterStaysTied()
    {
        var config = TestModels.Config(ModelFamily.Qwen3, tied: true);
        var baseDirectory = TestModels.WriteCheckpoint(config, seed: 2);
        using var network = TestModels.LoadNetwork(baseDirectory);
        using var adapter = TrainingTestData.RandomAdapter(network, new LoraConfig { Rank = 2, TrainUnembed = false }, seed: 1);
        var merged = Path.Combine(TestModels.TempDirectory(), "merged");
        MergedModelWriter.Write(baseDirectory, network, adapter, merged);

        Assert.True(ModelConfig.Load(merged).TieWordEmbeddings);
        using (var after = new CheckpointTensors(merged)) Assert.False(after.Contains("lm_head.weight"));
        using var mergedNetwork = TestModels.LoadNetwork(merged);
        using var scope = NewDisposeScope();
        var tokens = TestModels.RandomTokens(1, 7, config.VocabSize, seed: 1);
        var adapters = AdapterBatch.For([adapter]);
        var expected = network.Logits(network.Forward(tokens, adapters: adapters), adapters);
        Assert.True((expected - mergedNetwork.Logits(mergedNetwork.Forward(tokens))).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void MergedDirectoryIsACompleteHuggingFaceModel()
    {
        var baseDirectory = Path.Combine(TestModels.TempDirectory(), "base");
        RandomModelWriter.Write(baseDirectory, new RandomModelSpec
        {
            Family = ModelFamily.Llama, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            IntermediateSize = 64, TieWordEmbeddings = true, StoredDtype = ScalarType.BFloat16, Seed = 3,
        });
        File.WriteAllText(Path.Combine(baseDirectory, "README.md"), "# base model\n");
        using var model = PretrainedModel.Load(baseDirectory);
        using var adapter = TrainingTestData.RandomAdapter(model.Network, new LoraConfig { Rank = 4, Alpha = 8 }, seed: 2);

        // Stored dtype kept (bf16): each adapted weight is W + scale·B·A summed in fp32, rounded once.
        var keptDtype = Path.Combine(TestModels.TempDirectory(), "merged-bf16");
        MergedModelWriter.Write(baseDirectory, model.Network, adapter, keptDtype);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json", "README.md" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(baseDirectory, file)), File.ReadAllBytes(Path.Combine(keptDtype, file)));
        Assert.Equal("bfloat16", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(keptDtype, "config.json")))!["torch_dtype"]);
        using (var scope = NewDisposeScope())
        using (var before = new CheckpointTensors(baseDirectory))
        using (var after = new CheckpointTensors(keptDtype))
        {
            Assert.All(after.Names, n => Assert.Equal(ScalarType.BFloat16, after.StoredDtype(n)));
            const string name = "model.layers.1.mlp.down_proj";
            Assert.True(adapter.TryGet(name, out var w));
            long[] shape = [32, 64];
            var expected = (before.Read(name + ".weight", shape, ScalarType.Float32) + w.B.detach().matmul(w.A.detach()) * adapter.Scale).to(ScalarType.BFloat16);
            Assert.True(expected.eq(after.Read(name + ".weight", shape, ScalarType.BFloat16)).all().item<bool>());
        }
        using (var reloaded = PretrainedModel.Load(keptDtype))
            Assert.Equal(model.Tokenizer.VocabSize, reloaded.Tokenizer.VocabSize);

        // Stored as fp32, the merged model computes what the base with the adapter computes.
        var fp32 = Path.Combine(TestModels.TempDirectory(), "merged-fp32");
        MergedModelWriter.Write(baseDirectory, model.Network, adapter, fp32, storedDtype: ScalarType.Float32);
        var fp32Config = JsonNode.Parse(File.ReadAllText(Path.Combine(fp32, "config.json")))!.AsObject();
        Assert.Equal("float32", (string?)fp32Config["torch_dtype"]);
        Assert.False((bool)fp32Config["tie_word_embeddings"]!);
        using var merged = PretrainedModel.Load(fp32);
        using (var scope = NewDisposeScope())
        {
            var tokens = tensor(model.Tokenizer.Encode("merged weights, same answers").Select(t => (long)t).ToArray()).unsqueeze(0);
            var adapters = AdapterBatch.For([adapter]);
            var expected = model.Network.Logits(model.Network.Forward(tokens, adapters: adapters), adapters);
            var actual = merged.Network.Logits(merged.Network.Forward(tokens));
            Assert.True((expected - actual).abs().max().item<float>() < 1e-4, $"|Δlogits| = {(expected - actual).abs().max().item<float>():E3}");
        }
    }

    [Fact]
    public void ExistingOutputIsNeverOverwritten()
    {
        var config = TestModels.Config(ModelFamily.Llama);
        var baseDirectory = TestModels.WriteCheckpoint(config);
        using var network = TestModels.LoadNetwork(baseDirectory);
        using var adapter = TrainingTestData.RandomAdapter(network, new LoraConfig { Rank = 2 }, seed: 1);
        var occupied = TestModels.TempDirectory();
        File.WriteAllText(Path.Combine(occupied, "notes.txt"), "mine");

        Assert.Throws<IOException>(() => MergedModelWriter.Write(baseDirectory, network, adapter, occupied));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(occupied, "notes.txt")));
        Assert.Throws<ArgumentException>(() => MergedModelWriter.Write(baseDirectory, network, adapter, baseDirectory));
        Assert.Throws<ArgumentException>(() => MergedModelWriter.Write(baseDirectory, network, adapter, Path.GetDirectoryName(baseDirectory)!));
    }
}
