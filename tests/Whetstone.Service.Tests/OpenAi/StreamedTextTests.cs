using Whetstone.Chat;
using Whetstone.Service.OpenAi;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>What a stream shows, piece by piece, is what the finished answer says: stop strings
/// cut (and never half shown), end-of-turn tokens hidden, reasoning and tool calls split as the
/// renderer parses them.</summary>
public class StreamedTextTests
{
    static readonly HuggingFaceTokenizer Tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);

    static (List<string> Pieces, string Text) Stream(string text, IReadOnlyList<string> stops, params int[] extra)
    {
        var hidden = new HashSet<int>(Tokenizer.EosTokenIds);
        var choice = new ChoiceText(Tokenizer, hidden, stops);
        var pieces = Tokenizer.Encode(text).Concat(extra).Select(choice.Append).ToList();
        pieces.Add(choice.Finish());
        return (pieces, choice.Text);
    }

    [Theory]
    [InlineData("Hello STOP world", "STOP", "Hello ")]
    [InlineData("Hello ST world", "STOP", "Hello ST world")]        // a partial match is held back, then released
    [InlineData("añb✓c 😀 end", "😀", "añb✓c ")]                 // multi-byte characters and a 4-byte stop string
    [InlineData("no stop here", "zzz", "no stop here")]
    public void StopStringsCutTheTextAndTheStreamNeverShowsMore(string text, string stop, string expected)
    {
        var (pieces, final) = Stream(text, [stop]);
        Assert.Equal(expected, final);
        Assert.Equal(expected, string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
    }

    [Fact]
    public void EndOfTurnTokensAreNotText()
    {
        var (pieces, final) = Stream("done", [], [.. Tokenizer.EosTokenIds]);
        Assert.Equal("done", final);
        Assert.Equal("done", string.Concat(pieces));
    }

    public static TheoryData<string> Turns => new()
    {
        "Just an answer.",
        "\n\nLeading and trailing newlines\n\n",
        "<think>\nLet me add 2 and 3.\n</think>\n\nThe answer is 5.",
        "<think>\n\n</think>\n\nEmpty reasoning.",
        "Calling a tool.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3}}\n</tool_call>",
        "<think>plan</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
        "Not <thinking> at the start, and a <tool_ call> that is not one.\n",
        "<thi",
    };

    [Theory]
    [MemberData(nameof(Turns))]
    public void ChatDeltasAddUpToTheParsedMessageAndNeverShowWhatItDrops(string turn)
    {
        var parsed = new Qwen3Renderer(Tokenizer).ParseText(turn);
        foreach (int chunk in new[] { 1, 2, 3, 5, 1000 })
        {
            var splitter = new ChatDeltaSplitter();
            string reasoning = "", content = "";
            for (int i = 0; i < turn.Length; i += chunk)
            {
                var (r, c) = splitter.Append(turn.Substring(i, Math.Min(chunk, turn.Length - i)));
                reasoning += r;
                content += c;
            }
            // Before the end, the stream has only shown prefixes of what the parse keeps.
            Assert.StartsWith(content, parsed.Content);
            Assert.StartsWith(reasoning, parsed.Reasoning ?? "");
            var (restReasoning, restContent) = splitter.Finish(parsed.Reasoning, parsed.Content);
            Assert.Equal(parsed.Content, content + restContent);
            Assert.Equal(parsed.Reasoning ?? "", reasoning + restReasoning);
        }
    }
}
