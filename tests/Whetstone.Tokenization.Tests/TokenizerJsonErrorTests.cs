using System.Text.Json.Nodes;
using Whetstone.Tokenization;

namespace Whetstone.Tokenization.Tests;

/// <summary>Files this tokenizer would encode wrongly are refused, naming the field that holds the problem.</summary>
public sealed class TokenizerJsonErrorTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"whetstone-tokenizer-errors-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Loads a copy of the generated ChatMl tokenizer.json after <paramref name="edit"/>.</summary>
    private Exception LoadEdited(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(TestTokenizers.TokenizerJson(TestTokenizers.ChatMl)))!.AsObject();
        edit(json);
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, "tokenizer.json"), json.ToJsonString());
        return Record.Exception(() => HuggingFaceTokenizer.Load(_directory))
            ?? throw new Xunit.Sdk.XunitException("the edited tokenizer.json loaded without error");
    }

    [Fact]
    public void UnigramModelIsRefusedNamingModelType()
    {
        var error = LoadEdited(json => json["model"]!["type"] = "Unigram");
        Assert.IsType<NotSupportedException>(error);
        Assert.Contains("model.type 'Unigram'", error.Message);
    }

    [Fact]
    public void WordPieceModelIsRefusedNamingModelType()
    {
        var error = LoadEdited(json => json["model"]!["type"] = "WordPiece");
        Assert.Contains("model.type 'WordPiece'", error.Message);
    }

    [Fact]
    public void UnknownNormalizerIsRefusedNamingNormalizerType()
    {
        var error = LoadEdited(json => json["normalizer"] = new JsonObject { ["type"] = "Lowercase" });
        Assert.IsType<NotSupportedException>(error);
        Assert.Contains("normalizer.type 'Lowercase'", error.Message);
    }

    [Fact]
    public void MetaspacePreTokenizerIsRefusedNamingItsPosition()
    {
        var error = LoadEdited(json => json["pre_tokenizer"]!["pretokenizers"]![1] = new JsonObject { ["type"] = "Metaspace" });
        Assert.Contains("pre_tokenizer.pretokenizers[1].type 'Metaspace'", error.Message);
    }

    [Fact]
    public void SplitBehaviorOtherThanIsolatedIsRefused()
    {
        var error = LoadEdited(json => json["pre_tokenizer"]!["pretokenizers"]![0]!["behavior"] = "Removed");
        Assert.Contains("pre_tokenizer.pretokenizers[0].behavior 'Removed'", error.Message);
    }

    [Fact]
    public void NonByteLevelDecoderIsRefused()
    {
        var error = LoadEdited(json => json["decoder"] = new JsonObject { ["type"] = "WordPiece" });
        Assert.Contains("decoder.type 'WordPiece'", error.Message);
    }

    [Fact]
    public void MergeOfTokensOutsideTheVocabularyIsRefusedNamingTheMerge()
    {
        var error = LoadEdited(json => json["model"]!["merges"]!.AsArray().Insert(0, "ĠnotA token"));
        Assert.IsType<InvalidDataException>(error);
        Assert.Contains("model.merges[0]", error.Message);
    }

    [Fact]
    public void MalformedMergeIsRefusedNamingTheMerge()
    {
        var error = LoadEdited(json => json["model"]!["merges"]!.AsArray().Insert(0, "nospace"));
        Assert.Contains("model.merges[0]", error.Message);
    }

    [Fact]
    public void MissingTokenizerJsonIsReportedWithTheDirectory()
    {
        var error = Record.Exception(() => HuggingFaceTokenizer.Load(_directory + "-missing"));
        Assert.IsType<FileNotFoundException>(error);
        Assert.Contains("tokenizer.json", error.Message);
    }
}
