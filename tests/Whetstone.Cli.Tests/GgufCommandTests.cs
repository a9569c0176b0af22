using System.Text.Json.Nodes;

namespace Whetstone.Cli.Tests;

/// <summary>`whet export gguf` then `whet import gguf`: the model comes back scoring every token as
/// before; bad dtypes, files that are not GGUF and occupied outputs are refused with their codes.</summary>
public class GgufCommandTests
{
    static JsonNode Logprobs(string model) =>
        JsonNode.Parse(Whet.Succeed("logprobs", "-m", model, "--dtype", "fp32", "--text", "Reverse this list: cloud, river, garden", "--json"))!;

    [Fact]
    public void AnF32ExportImportedBackScoresEveryTokenAsTheOriginal()
    {
        using var temp = new TempDirectory();
        var written = Whet.Succeed("export", "gguf", "-m", TinyModel.ModelDirectory, "-o", temp["tiny.gguf"], "--dtype", "f32");
        Assert.StartsWith($"wrote {temp["tiny.gguf"]} (", written);
        var bytes = File.ReadAllBytes(temp["tiny.gguf"]);
        Assert.Equal("GGUF"u8.ToArray(), bytes[..4]);

        Assert.StartsWith("imported Qwen3ForCausalLM (2 layers, hidden 32, vocab ", Whet.Succeed("import", "gguf", "-f", temp["tiny.gguf"], "-o", temp["back"]));
        var original = Logprobs(TinyModel.ModelDirectory);
        var roundTrip = Logprobs(temp["back"]);
        // The same tokenizer (the same ids) and the same fp32 weights.
        Assert.Equal(original["tokens"]!.ToJsonString(), roundTrip["tokens"]!.ToJsonString());
        var a = original["logprobs"]!.AsArray().Skip(1).Select(l => (double)l!).ToArray();
        var b = roundTrip["logprobs"]!.AsArray().Skip(1).Select(l => (double)l!).ToArray();
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 5);

        // Importing onto a directory that is not empty is refused (bad arguments), leaving it as it was.
        var occupied = Whet.Run("import", "gguf", "-f", temp["tiny.gguf"], "-o", temp["back"]);
        Assert.Equal(2, occupied.ExitCode);
        Assert.Contains("exists and is not empty", occupied.Stderr);
    }

    [Fact]
    public void ABadDtypeIsExitCode2AndAFileThatIsNotGgufIsExitCode3()
    {
        using var temp = new TempDirectory();
        var dtype = Whet.Run("export", "gguf", "-m", TinyModel.ModelDirectory, "-o", temp["x.gguf"], "--dtype", "q4_0");
        Assert.Equal(2, dtype.ExitCode);
        Assert.StartsWith("error: --dtype 'q4_0' is not one of f32, f16, bf16", dtype.Stderr);
        Assert.False(File.Exists(temp["x.gguf"]));

        File.WriteAllText(temp["not.gguf"], "{\"this is\": \"json\"}");
        var notGguf = Whet.Run("import", "gguf", "-f", temp["not.gguf"], "-o", temp["out"]);
        Assert.Equal(3, notGguf.ExitCode);
        Assert.StartsWith("error: ", notGguf.Stderr);
    }
}
