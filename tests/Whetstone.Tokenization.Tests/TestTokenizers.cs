using System.Text.Json.Nodes;
using Whetstone.Tokenization;

namespace Whetstone.Tokenization.Tests;

/// <summary>
/// The tokenizer directories the tests load: the two generated styles and a hand-written GPT-2
/// tokenizer.json, all with a few hundred merges learned from <see cref="TokenizerCorpus.Training"/>.
/// Written once per test run.
/// </summary>
internal static class TestTokenizers
{
    public const string ChatMl = "chatml";
    public const string Llama3 = "llama3";
    public const string Gpt2 = "gpt2";
    public const string Gpt2PrefixSpace = "gpt2-prefix-space";

    public static readonly string[] All = [ChatMl, Llama3, Gpt2, Gpt2PrefixSpace];

    /// <summary>
    /// Ranked before the learned merges: "qxz" becomes a token although merging "q x z" by rank stops
    /// at "q" + "xz". Only ignore_merges (Llama 3) encodes "qxz" as that one token.
    /// </summary>
    public static readonly BpeMerge[] IgnoreMergesProbe = [new("x", "z"), new("q", "x"), new("qx", "z")];

    /// <summary>
    /// Merges that spell whole pre-tokens only Hugging Face's code-point regex produces: "😀abc" is
    /// one pre-token there, two for a .NET regex run on UTF-16 units. Fixed here rather than
    /// learned, so a pre-tokenizer bug cannot also change the merges that would reveal it.
    /// </summary>
    public static readonly BpeMerge[] CodePointProbe = [.. MergesSpelling("😀abc"), .. MergesSpelling("😀yz"), .. MergesSpelling("𝐀𝐁c")];

    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"whetstone-tokenizer-tests-{Environment.ProcessId}");
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Directories = new(WriteAll);

    public static string Directory(string name) => Directories.Value[name];

    public static HuggingFaceTokenizer Load(string name) => HuggingFaceTokenizer.Load(Directory(name));

    public static string TokenizerJson(string name) => Path.Combine(Directory(name), "tokenizer.json");

    private static IReadOnlyDictionary<string, string> WriteAll()
    {
        var probes = IgnoreMergesProbe.Concat(CodePointProbe).ToArray();
        var chatMlMerges = probes.Concat(ByteLevelBpeTrainer.LearnMerges(TokenizerCorpus.Training(), 300, ByteLevelTokenizerStyle.ChatMl)).ToArray();
        var llama3Merges = probes.Concat(ByteLevelBpeTrainer.LearnMerges(TokenizerCorpus.Training(), 300, ByteLevelTokenizerStyle.Llama3)).ToArray();

        var directories = new Dictionary<string, string>();
        foreach (string name in All) directories[name] = Path.Combine(Root, name);
        ByteLevelTokenizerFiles.Write(directories[ChatMl], ByteLevelTokenizerStyle.ChatMl, chatMlMerges);
        ByteLevelTokenizerFiles.Write(directories[Llama3], ByteLevelTokenizerStyle.Llama3, llama3Merges);
        WriteGpt2Style(directories[Gpt2], llama3Merges, addPrefixSpace: false);
        WriteGpt2Style(directories[Gpt2PrefixSpace], llama3Merges, addPrefixSpace: true);
        return directories;
    }

    /// <summary>
    /// A GPT-2 layout written by hand, unlike the generated ones: ByteLevel does the regex split
    /// itself, merges are [left, right] arrays, and &lt;|endoftext|&gt; is in the model vocabulary as well
    /// as in added_tokens. Its other added tokens try the matching options: a non-special token,
    /// lstrip, rstrip and single_word.
    /// </summary>
    private static void WriteGpt2Style(string directory, IReadOnlyList<BpeMerge> merges, bool addPrefixSpace)
    {
        var vocab = new JsonObject();
        foreach (byte b in ByteLevelAlphabetForTests.BytesInVocabularyOrder) vocab[ByteLevelAlphabetForTests.CharOf(b).ToString()] = vocab.Count;
        var mergeArray = new JsonArray();
        foreach (var merge in merges)
        {
            if (!vocab.ContainsKey(merge.Merged)) vocab[merge.Merged] = vocab.Count;
            mergeArray.Add(new JsonArray(merge.Left, merge.Right));
        }
        int endOfText = vocab.Count;
        vocab["<|endoftext|>"] = endOfText;

        JsonObject ByteLevel() => new()
        {
            ["type"] = "ByteLevel", ["add_prefix_space"] = addPrefixSpace, ["trim_offsets"] = true, ["use_regex"] = true,
        };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(
                AddedToken(endOfText, "<|endoftext|>", special: true, normalized: true),
                AddedToken(endOfText + 1, "<think>", special: false),
                AddedToken(endOfText + 2, "<mask>", special: true, lstrip: true),
                AddedToken(endOfText + 3, "<rs>", special: true, rstrip: true),
                AddedToken(endOfText + 4, "WORD", special: false, normalized: true, singleWord: true)),
            ["normalizer"] = null,
            ["pre_tokenizer"] = ByteLevel(),
            ["post_processor"] = ByteLevel(),
            ["decoder"] = ByteLevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "", ["fuse_unk"] = false, ["byte_fallback"] = false, ["vocab"] = vocab, ["merges"] = mergeArray,
            },
        };
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizer.ToJsonString());
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), $"{{\"bos_token_id\": {endOfText}, \"eos_token_id\": {endOfText}}}");
    }

    /// <summary>Left-to-right merges that build <paramref name="text"/> from its bytes.</summary>
    private static IEnumerable<BpeMerge> MergesSpelling(string text)
    {
        string[] bytes = System.Text.Encoding.UTF8.GetBytes(text).Select(b => ByteLevelAlphabetForTests.CharOf(b).ToString()).ToArray();
        string built = bytes[0];
        foreach (string next in bytes.Skip(1))
        {
            yield return new BpeMerge(built, next);
            built += next;
        }
    }

    private static JsonObject AddedToken(
        int id, string content, bool special, bool normalized = false, bool lstrip = false, bool rstrip = false, bool singleWord = false) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = singleWord, ["lstrip"] = lstrip,
        ["rstrip"] = rstrip, ["normalized"] = normalized, ["special"] = special,
    };
}
