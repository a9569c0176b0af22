using System.Text.Json.Nodes;

namespace Whetstone.Cli.Tests;

/// <summary>`whet init-model` writes the shape it was asked for; `whet info` reports it, and
/// refuses unusable model files with exit code 3.</summary>
public class InfoAndInitModelTests
{
    static JsonObject Config(string directory) => JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))!.AsObject();

    [Fact]
    public void InitModelWritesTheRequestedShapeAndInfoJsonReportsItWithAnIndependentParameterCount()
    {
        var config = Config(TinyModel.ModelDirectory);
        Assert.Equal("Qwen3ForCausalLM", (string?)config["architectures"]![0]);
        Assert.Equal(TinyModel.HiddenSize, (int)config["hidden_size"]!);
        Assert.Equal(TinyModel.Layers, (int)config["num_hidden_layers"]!);
        Assert.Equal(TinyModel.Heads, (int)config["num_attention_heads"]!);
        Assert.Equal(TinyModel.KeyValueHeads, (int)config["num_key_value_heads"]!);
        Assert.Equal(TinyModel.IntermediateSize, (int)config["intermediate_size"]!);
        Assert.Equal(TinyModel.MaxPositions, (int)config["max_position_embeddings"]!);

        var info = JsonNode.Parse(Whet.Succeed("info", "-m", TinyModel.ModelDirectory, "--dtype", "fp32", "--json"))!.AsObject();
        Assert.Equal(Path.GetFullPath(TinyModel.ModelDirectory), (string?)info["directory"]);
        Assert.Equal("Qwen3", (string?)info["architecture"]);
        Assert.Equal("Float32", (string?)info["compute_dtype"]);
        Assert.Equal((int)config["vocab_size"]!, (int)info["vocab_size"]!);
        Assert.Equal(TinyModel.HiddenSize, (int)info["hidden_size"]!);
        Assert.Equal(TinyModel.Layers, (int)info["layers"]!);
        Assert.Equal(TinyModel.Heads, (int)info["attention_heads"]!);
        Assert.Equal(TinyModel.KeyValueHeads, (int)info["key_value_heads"]!);
        Assert.Equal(TinyModel.HiddenSize / TinyModel.Heads, (int)info["head_dim"]!);
        Assert.True((bool)info["tie_word_embeddings"]!);
        // Tied embeddings: the file holds no lm_head, and the network registers none of its own.
        Assert.Equal(SafetensorsHeader.Parameters(TinyModel.ModelDirectory), (long)info["parameters"]!);
        // The vocabulary is the tokenizer's size rounded up to a multiple of 64, and holds it.
        int tokenizerTokens = (int)info["tokenizer_tokens"]!, vocab = (int)info["vocab_size"]!;
        Assert.Equal((tokenizerTokens + 63) / 64 * 64, vocab);

        // The plain form prints the same fields, one "key value" line each.
        var lines = Whet.Succeed("info", "-m", TinyModel.ModelDirectory, "--dtype", "fp32").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(info.Count, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("layers ") && l.TrimEnd().EndsWith($" {TinyModel.Layers}"));
    }

    [Fact]
    public void InitModelOptionsReachTheFilesItWrites()
    {
        using var temp = new TempDirectory();
        Whet.Succeed("init-model", "-o", temp["llama"], "--family", "llama", "--hidden-size", "32", "--layers", "1", "--heads", "2", "--kv-heads", "1",
            "--intermediate-size", "48", "--max-positions", "64", "--untied", "--dtype", "bf16", "--vocab-size", "512");
        var config = Config(temp["llama"]);
        Assert.Equal("LlamaForCausalLM", (string?)config["architectures"]![0]);
        Assert.Equal(512, (int)config["vocab_size"]!);
        Assert.False((bool)config["tie_word_embeddings"]!);
        Assert.Equal("bfloat16", (string?)config["torch_dtype"]);
        var shapes = Directory.GetFiles(temp["llama"], "*.safetensors").SelectMany(f => SafetensorsHeader.Shapes(f)).ToDictionary();
        Assert.Equal([512L, 32L], shapes["lm_head.weight"]);
        Assert.Equal([512L, 32L], shapes["model.embed_tokens.weight"]);

        // The same seed writes the same weights; another seed, others.
        Whet.Succeed("init-model", "-o", temp["a"], "--hidden-size", "32", "--layers", "1", "--seed", "5");
        Whet.Succeed("init-model", "-o", temp["b"], "--hidden-size", "32", "--layers", "1", "--seed", "5");
        Whet.Succeed("init-model", "-o", temp["c"], "--hidden-size", "32", "--layers", "1", "--seed", "6");
        byte[] Weights(string d) => File.ReadAllBytes(Path.Combine(d, "model.safetensors"));
        Assert.Equal(Weights(temp["a"]), Weights(temp["b"]));
        Assert.NotEqual(Weights(temp["a"]), Weights(temp["c"]));
    }

    [Theory]
    [InlineData("--family", "gpt2", "gpt2")]
    [InlineData("--tokenizer", "sentencepiece", "--tokenizer")]
    [InlineData("--dtype", "int8", "int8")]
    [InlineData("--preset", "huge", "huge")]
    public void InitModelRefusesABadValueWithExitCode2NamingIt(string option, string value, string named)
    {
        using var temp = new TempDirectory();
        var outcome = Whet.Run("init-model", "-o", temp["m"], "--hidden-size", "32", "--layers", "1", option, value);
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("error: ", outcome.Stderr);
        Assert.Contains(named, outcome.Stderr);
        Assert.Single(outcome.Stderr.TrimEnd().Split('\n'));
        Assert.False(File.Exists(Path.Combine(temp["m"], "config.json")));
    }

    [Fact]
    public void InfoOnUnusableModelFilesExitsWith3NamingTheProblem()
    {
        using var temp = new TempDirectory();
        var missing = Whet.Run("info", "-m", temp["nowhere"]);
        Assert.Equal(3, missing.ExitCode);
        Assert.StartsWith("error: ", missing.Stderr);
        Assert.Contains("nowhere", missing.Stderr);

        // A copy of the tiny model whose config.json has a field out of range.
        Directory.CreateDirectory(temp["bad"]);
        foreach (var file in Directory.GetFiles(TinyModel.ModelDirectory)) File.Copy(file, Path.Combine(temp["bad"], Path.GetFileName(file)));
        var config = Config(temp["bad"]);
        config["num_hidden_layers"] = -1;
        File.WriteAllText(Path.Combine(temp["bad"], "config.json"), config.ToJsonString());
        var bad = Whet.Run("info", "-m", temp["bad"]);
        Assert.Equal(3, bad.ExitCode);
        Assert.Contains("num_hidden_layers", bad.Stderr);
        Assert.Contains("-1", bad.Stderr);
        Assert.Equal("", bad.Stdout);
    }
}
