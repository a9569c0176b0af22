using Whetstone.Chat;
using Whetstone.Service.OpenAi;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>Streamed chat deltas of Kimi K2 turns (think block, tool-call section) add up to what
/// its renderer parses from the whole turn, as for Qwen3 in <see cref="StreamedTextTests"/>.</summary>
public sealed class KimiStreamedTextTests
{
    static readonly Lazy<KimiK2Renderer> Renderer = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-kimi-stream", Guid.NewGuid().ToString("N"));
        KimiTokenizerFiles.Write(directory, Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList());
        return new KimiK2Renderer(HuggingFaceTokenizer.Load(directory));
    });

    public static TheoryData<string> Turns => new()
    {
        "<think>Let me add 2 and 3.</think>The answer is 5.",
        "<think></think>Checking.<|tool_calls_section_begin|><|tool_call_begin|>functions.add:0<|tool_call_argument_begin|>{\"a\": 2}<|tool_call_end|><|tool_calls_section_end|>",
        "<think>plan</think><|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>",
        "A <|tool_calls_sec that is not one.",
    };

    [Theory]
    [MemberData(nameof(Turns))]
    public void ChatDeltasAddUpToTheParsedMessage(string turn)
    {
        var parsed = Renderer.Value.ParseText(turn);
        foreach (int chunk in new[] { 1, 3, 7, 1000 })
        {
            var splitter = new ChatDeltaSplitter();
            string reasoning = "", content = "";
            for (int i = 0; i < turn.Length; i += chunk)
            {
                var (r, c) = splitter.Append(turn.Substring(i, Math.Min(chunk, turn.Length - i)));
                reasoning += r;
                content += c;
            }
            Assert.StartsWith(content, parsed.Content);
            if (parsed.ToolCalls is not null) Assert.DoesNotContain("<|tool_call", content);   // calls never stream as content
            var (restReasoning, restContent) = splitter.Finish(parsed.Reasoning, parsed.Content);
            Assert.Equal(parsed.Content, content + restContent);
            Assert.Equal(parsed.Reasoning ?? "", reasoning + restReasoning);
        }
    }
}
