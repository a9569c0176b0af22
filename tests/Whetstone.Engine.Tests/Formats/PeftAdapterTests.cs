using System.Text.Json.Nodes;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Tests.Training;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Formats;

public class PeftAdapterTests
{
    [Theory]
    [InlineData(ModelFamily.Llama, false)]
    [InlineData(ModelFamily.Qwen3, true)]
    [InlineData(ModelFamily.Qwen2, true)]
    public void ExportedAdapterImportsWithIdenticalLogits(ModelFamily family, bool tied)
    {
        var config = TestModels.Config(family, tied);
        using var network = TestModels.Network(config);
        using var original = TrainingTestData.RandomAdapter(network, new LoraConfig { Rank = 4, Alpha = 8 }, seed: 5);
        var directory = Path.Combine(TestModels.TempDirectory(), "adapter");
        PeftAdapter.Save(original, directory, "org/base-model");
        using var imported = PeftAdapter.Load(directory, network);

        Assert.Equal(original.Config, imported.Config);
        Assert.Equal(original.Weights.Select(w => w.Target), imported.Weights.Select(w => w.Target));
        foreach (var (a, b) in original.NamedParameters().Zip(imported.NamedParameters()))
        {
            Assert.Equal(a.Name, b.Name);
            Assert.True(a.Parameter.eq(b.Parameter).all().item<bool>(), $"{a.Name} changed in the round trip");
        }

        using var scope = NewDisposeScope();
        var tokens = TestModels.RandomTokens(2, 9, config.VocabSize, seed: 3);
        var baseLogits = network.Logits(network.Forward(tokens));
        var before = AdapterBatch.For([original, original]);
        var after = AdapterBatch.For([imported, imported]);
        var expected = network.Logits(network.Forward(tokens, adapters: before), before);
        var actual = network.Logits(network.Forward(tokens, adapters: after), after);
        Assert.Equal(0f, (expected - actual).abs().max().item<float>());
        // The adapter matters, so equality above is not the base model twice.
        Assert.True((expected - baseLogits).abs().max().item<float>() > 1e-2);
    }

    [Fact]
    public void ExportUsesPeftKeyNamesAndConfigFields()
    {
        var config = TestModels.Config(ModelFamily.Llama, hidden: 32, layers: 2, vocab: 97);
        using var network = TestModels.Network(config);
        using var adapter = TrainingTestData.RandomAdapter(network, new LoraConfig { Rank = 4, Alpha = 8 }, seed: 1);
        var directory = Path.Combine(TestModels.TempDirectory(), "adapter");
        PeftAdapter.Save(adapter, directory, "meta-llama/Llama-3.2-1B");

        using (var file = new SafetensorsFile(Path.Combine(directory, "adapter_model.safetensors")))
        {
            Assert.Equal([4L, 32], file.Shape("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
            Assert.Equal([32L, 4], file.Shape("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"));
            Assert.Equal([70L, 4], file.Shape("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight"));
            Assert.Equal([4L, 70], file.Shape("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"));
            Assert.Equal([4L, 32], file.Shape("base_model.model.lm_head.lora_A.weight"));
            Assert.Equal([97L, 4], file.Shape("base_model.model.lm_head.lora_B.weight"));
            Assert.Equal(2 * (2 * 7 + 1), file.TensorNames.Count());
            Assert.All(file.TensorNames, n => Assert.Equal(ScalarType.Float32, file.Dtype(n)));
            Assert.Equal("pt", file.Metadata["format"]);
        }

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "adapter_config.json")))!.AsObject();
        Assert.Equal("LORA", (string?)json["peft_type"]);
        Assert.Equal("CAUSAL_LM", (string?)json["task_type"]);
        Assert.Equal(4, (int)json["r"]!);
        Assert.Equal(8.0, (double)json["lora_alpha"]!);
        Assert.Equal(0.0, (double)json["lora_dropout"]!);
        Assert.Equal(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"],
            json["target_modules"]!.AsArray().Select(m => (string)m!));
        Assert.Equal("none", (string?)json["bias"]);
        Assert.False((bool)json["fan_in_fan_out"]!);
        Assert.False((bool)json["use_rslora"]!);
        Assert.False((bool)json["use_dora"]!);
        Assert.True((bool)json["inference_mode"]!);
        Assert.Equal("meta-llama/Llama-3.2-1B", (string?)json["base_model_name_or_path"]);
        Assert.True(json.ContainsKey("modules_to_save"));
        Assert.Null(json["modules_to_save"]);

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "manifest.json")))!["sha256"]!.AsObject();
        Assert.Equal(["adapter_config.json", "adapter_model.safetensors"], manifest.Select(e => e.Key).Order());
    }

    [Fact]
    public void HuggingFaceLayoutWithAdapterNameHalfPrecisionAndRsLoraLoads()
    {
        var config = TestModels.Config(ModelFamily.Qwen3, tied: true);
        using var network = TestModels.Network(config);
        var directory = TestModels.TempDirectory();
        var generator = new Generator(7);
        var attention = network.LoraTargets().Where(t => t.Group == LoraTargetGroup.Attention).ToList();
        using (var scope = NewDisposeScope())
        {
            // As PEFT saves them from a bf16 model, keeping the adapter name "default" in the keys.
            var tensors = new List<KeyValuePair<string, Tensor>>();
            foreach (var t in attention)
            {
                tensors.Add(new($"base_model.model.{t.Name}.lora_A.default.weight", (randn([4, t.InFeatures], generator: generator) * 0.1).to(ScalarType.BFloat16)));
                tensors.Add(new($"base_model.model.{t.Name}.lora_B.default.weight", (randn([t.OutFeatures, 4], generator: generator) * 0.1).to(ScalarType.BFloat16)));
            }
            SafetensorsWriter.Write(Path.Combine(directory, "adapter_model.safetensors"), tensors);
        }
        File.WriteAllText(Path.Combine(directory, "adapter_config.json"), HuggingFaceConfig);

        using var imported = PeftAdapter.Load(directory, network);
        Assert.Equal(new LoraConfig { Rank = 4, Alpha = 16, UseRsLora = true, TrainAttention = true, TrainMlp = false, TrainUnembed = false }, imported.Config);
        Assert.Equal(8.0, imported.Scale);   // alpha / √r, not alpha / r
        Assert.Equal(attention, imported.Weights.Select(w => w.Target));
        Assert.All(imported.Weights, w => Assert.Equal(ScalarType.Float32, w.A.dtype));

        // The same factors built directly give the same logits.
        using var file = new SafetensorsFile(Path.Combine(directory, "adapter_model.safetensors"));
        using var expected = LoraAdapter.FromTensors(attention, imported.Config, t =>
            (file.Read($"base_model.model.{t.Name}.lora_A.default.weight").to(ScalarType.Float32),
             file.Read($"base_model.model.{t.Name}.lora_B.default.weight").to(ScalarType.Float32)));
        using var scope2 = NewDisposeScope();
        var tokens = TestModels.RandomTokens(1, 8, config.VocabSize, seed: 2);
        var a = AdapterBatch.For([expected]);
        var b = AdapterBatch.For([imported]);
        Assert.Equal(0f, (network.Logits(network.Forward(tokens, adapters: a), a) - network.Logits(network.Forward(tokens, adapters: b), b)).abs().max().item<float>());
    }

    [Fact]
    public void ImportedAdapterContinuesTraining()
    {
        var config = TestModels.Config(ModelFamily.Llama, vocab: 61);
        using var network = TestModels.Network(config);
        var lora = new LoraConfig { Rank = 8, Alpha = 16 };
        var directory = Path.Combine(TestModels.TempDirectory(), "adapter");
        using (var original = TrainingTestData.RandomAdapter(network, lora, seed: 4)) PeftAdapter.Save(original, directory, null);
        using var reference = TrainingRun.FromAdapter(network, TrainingTestData.RandomAdapter(network, lora, seed: 4));
        using var run = TrainingRun.FromAdapter(network, PeftAdapter.Load(directory, network));

        var random = new Random(3);
        var data = Enumerable.Range(0, 4).Select(_ => Datum.ForNextToken(Enumerable.Range(0, 12).Select(_ => random.Next(config.VocabSize)).ToArray())).ToList();
        var loss = LossSpec.Parse("cross_entropy");
        double first = run.Forward(data, loss).Loss;
        Assert.Equal(reference.Forward(data, loss).Loss, first);
        for (int step = 0; step < 15; step++)
        {
            run.ForwardBackward(data, loss);
            run.OptimStep(new AdamParams { LearningRate = 1e-2 });
        }
        double last = run.Forward(data, loss).Loss;
        Assert.True(last < first / 2, $"loss {first:F2} → {last:F2}");
        Assert.Equal(15, run.Step);
    }

    [Fact]
    public void RsLoraScaleSurvivesExportImportAndTrainingCheckpoints()
    {
        var config = TestModels.Config(ModelFamily.Qwen2);
        using var network = TestModels.Network(config);
        var lora = new LoraConfig { Rank = 4, Alpha = 8, UseRsLora = true, TrainMlp = false };
        var root = TestModels.TempDirectory();
        using (var original = TrainingTestData.RandomAdapter(network, lora, seed: 8)) PeftAdapter.Save(original, Path.Combine(root, "adapter"), null);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "adapter", "adapter_config.json")))!;
        Assert.True((bool)json["use_rslora"]!);
        Assert.Equal(["q_proj", "k_proj", "v_proj", "o_proj", "lm_head"], json["target_modules"]!.AsArray().Select(m => (string)m!));

        using var run = TrainingRun.FromAdapter(network, PeftAdapter.Load(Path.Combine(root, "adapter"), network));
        Assert.Equal(lora, run.Adapter!.Config);
        Assert.Equal(4.0, run.Adapter.Scale);   // 8 / √4
        TrainingCheckpoint.Save(run, Path.Combine(root, "state"));
        using var resumed = TrainingCheckpoint.LoadLora(network, Path.Combine(root, "state"), withOptimizer: false);
        Assert.Equal(lora, resumed.Adapter!.Config);
        var data = TrainingTestData.Random(config.VocabSize, [6, 4], seed: 1);
        Assert.Equal(run.Forward(data, LossSpec.Parse("cross_entropy")).Loss, resumed.Forward(data, LossSpec.Parse("cross_entropy")).Loss);
    }

    [Theory]
    [InlineData("use_dora", "true")]
    [InlineData("bias", "\"lora_only\"")]
    [InlineData("fan_in_fan_out", "true")]
    [InlineData("rank_pattern", "{\"q_proj\": 8}")]
    [InlineData("alpha_pattern", "{\"q_proj\": 32}")]
    [InlineData("modules_to_save", "[\"lm_head\"]")]
    [InlineData("peft_type", "\"IA3\"")]
    [InlineData("r", "0")]
    public void ConfigOptionsWeCannotHonourAreRefusedByName(string field, string value)
    {
        using var network = TestModels.Network(TestModels.Config(ModelFamily.Llama));
        var directory = ExportedWithoutManifest(network);
        var path = Path.Combine(directory, "adapter_config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json[field] = JsonNode.Parse(value);
        File.WriteAllText(path, json.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(directory, network));
        Assert.StartsWith($"adapter_config.json: '{field}' = ", error.Message);
    }

    [Fact]
    public void KeyForAModuleTheModelLacksIsNamed()
    {
        // An adapter trained on a three-layer model, loaded onto a two-layer one.
        using var deeper = TestModels.Network(TestModels.Config(ModelFamily.Llama, layers: 3));
        using var network = TestModels.Network(TestModels.Config(ModelFamily.Llama, layers: 2));
        var directory = ExportedWithoutManifest(deeper);
        var error = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(directory, network));
        Assert.Contains("'base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight'", error.Message);
        Assert.Contains("model.layers.2.self_attn.q_proj", error.Message);
    }

    [Fact]
    public void WronglyShapedFactorIsNamedWithBothShapes()
    {
        // An adapter for hidden size 32, loaded onto a model with hidden size 48.
        using var narrow = TestModels.Network(TestModels.Config(ModelFamily.Qwen2, hidden: 32));
        using var network = TestModels.Network(TestModels.Config(ModelFamily.Qwen2, hidden: 48));
        var directory = ExportedWithoutManifest(narrow);
        var error = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(directory, network));
        Assert.Contains("'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'", error.Message);
        Assert.Contains("[4, 32]", error.Message);
        Assert.Contains("[4, 48]", error.Message);
    }

    [Fact]
    public void UnknownTensorInTheAdapterFileIsNamed()
    {
        using var network = TestModels.Network(TestModels.Config(ModelFamily.Llama));
        var directory = TestModels.TempDirectory();
        File.WriteAllText(Path.Combine(directory, "adapter_config.json"), HuggingFaceConfig);
        using (var scope = NewDisposeScope())
            SafetensorsWriter.Write(Path.Combine(directory, "adapter_model.safetensors"),
                [new("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", ones(32))]);
        var error = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(directory, network));
        Assert.Contains("'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector' is not a LoRA factor", error.Message);
    }

    [Fact]
    public void CorruptedAdapterFileIsDetectedByItsManifest()
    {
        using var network = TestModels.Network(TestModels.Config(ModelFamily.Qwen3));
        using var adapter = TrainingTestData.RandomAdapter(network, new LoraConfig { Rank = 4 }, seed: 2);
        var directory = Path.Combine(TestModels.TempDirectory(), "adapter");
        PeftAdapter.Save(adapter, directory, null);
        var weights = Path.Combine(directory, "adapter_model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^3] ^= 0x01;   // one bit of lm_head's B: still a well-formed file with a finite value
        File.WriteAllBytes(weights, bytes);

        var error = Assert.Throws<InvalidDataException>(() => CheckpointDirectory.Verify(directory));
        Assert.Contains("'adapter_model.safetensors' is corrupted", error.Message);
        error = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(directory, network));
        Assert.Contains("'adapter_model.safetensors' is corrupted", error.Message);

        // Without the manifest the same bytes load, and do differ: the manifest caught it.
        File.Delete(Path.Combine(directory, "manifest.json"));
        using var loaded = PeftAdapter.Load(directory, network);
        Assert.True(loaded.TryGet("lm_head", out var corrupted));
        Assert.True(adapter.TryGet("lm_head", out var written));
        Assert.False(corrupted.B.eq(written.B).all().item<bool>());
        Assert.True(corrupted.A.eq(written.A).all().item<bool>());
    }

    static string ExportedWithoutManifest(CausalLanguageModel network)
    {
        using var adapter = TrainingTestData.RandomAdapter(network, new LoraConfig { Rank = 4, Alpha = 8 }, seed: 1);
        var directory = Path.Combine(TestModels.TempDirectory(), "adapter");
        PeftAdapter.Save(adapter, directory, null);
        // As downloaded from the Hugging Face Hub: PEFT's two files, no manifest of ours.
        File.Delete(Path.Combine(directory, "manifest.json"));
        return directory;
    }

    /// <summary>adapter_config.json as PEFT 0.17 writes it, every field included.</summary>
    const string HuggingFaceConfig = """
        {
          "alpha_pattern": {},
          "auto_mapping": null,
          "base_model_name_or_path": "Qwen/Qwen3-0.6B",
          "bias": "none",
          "corda_config": null,
          "eva_config": null,
          "exclude_modules": null,
          "fan_in_fan_out": false,
          "inference_mode": true,
          "init_lora_weights": true,
          "layer_replication": null,
          "layers_pattern": null,
          "layers_to_transform": null,
          "loftq_config": {},
          "lora_alpha": 16,
          "lora_bias": false,
          "lora_dropout": 0.05,
          "megatron_config": null,
          "megatron_core": "megatron.core",
          "modules_to_save": null,
          "peft_type": "LORA",
          "qalora_group_size": 16,
          "r": 4,
          "rank_pattern": {},
          "revision": null,
          "target_modules": ["k_proj", "q_proj", "o_proj", "v_proj"],
          "target_parameters": null,
          "task_type": "CAUSAL_LM",
          "trainable_token_indices": null,
          "use_dora": false,
          "use_qalora": false,
          "use_rslora": true
        }
        """;
}
