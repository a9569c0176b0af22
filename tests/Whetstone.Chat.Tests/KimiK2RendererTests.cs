using Whetstone.Tokenization;

namespace Whetstone.Chat.Tests;

/// <summary>Expected texts are what Kimi K2 Thinking's published chat template
/// (moonshotai/Kimi-K2-Thinking, chat_template.jinja) renders for the same messages: each was
/// produced by evaluating that template with jinja2 the way transformers does (trim_blocks,
/// lstrip_blocks, tojson with ensure_ascii off) and pasted here. The tokenizer is a Kimi-format
/// one (tiktoken.model + tokenizer_config.json) with sequences learned from chat text.</summary>
public class KimiK2RendererTests
{
    static readonly Lazy<HuggingFaceTokenizer> LazyTokenizer = new(() =>
    {
        string[] corpus = ["You are terse. What is 2+2? Hello, the weather in Paris and Oslo is 18 degrees.", "assistant user system tool functions.get_weather {\"city\": \"Paris\"} Return of"];
        var merges = ByteLevelBpeTrainer.LearnMerges(Enumerable.Repeat(corpus, 10).SelectMany(c => c), 150, ByteLevelTokenizerStyle.ChatMl);
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-kimi-renderer", Guid.NewGuid().ToString("N"));
        KimiTokenizerFiles.WriteFromMerges(directory, merges);
        return HuggingFaceTokenizer.Load(directory);
    });

    static HuggingFaceTokenizer Tokenizer => LazyTokenizer.Value;
    readonly KimiK2Renderer _renderer = new(Tokenizer);

    static ToolCall Call(int index, string city) => new("get_weather", $"{{\"city\": \"{city}\"}}") { Id = $"functions.get_weather:{index}" };
    const string WeatherTool = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather in a city, °C\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}";
    const string Declared = "<|im_system|>tool_declare<|im_middle|>[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather in a city, °C\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}]<|im_end|>";
    const string DefaultSystem = "<|im_system|>system<|im_middle|>You are Kimi, an AI assistant created by Moonshot AI.<|im_end|>";

    [Fact]
    public void MultiTurnDropsReasoningUpToTheLastPlainAnswer()
    {
        ChatMessage[] messages =
        [
            ChatMessage.System("You are terse."),
            ChatMessage.User("Hi"),
            ChatMessage.Assistant("Hello") with { Reasoning = "greet back" },
            ChatMessage.User("What is 2+2?"),
            ChatMessage.Assistant("4") with { Reasoning = "add them" },
        ];
        const string expected = "<|im_system|>system<|im_middle|>You are terse.<|im_end|><|im_user|>user<|im_middle|>Hi<|im_end|><|im_assistant|>assistant<|im_middle|><think></think>Hello<|im_end|><|im_user|>user<|im_middle|>What is 2+2?<|im_end|><|im_assistant|>assistant<|im_middle|><think></think>4<|im_end|>";
        var example = _renderer.BuildSupervisedExample(messages);
        Assert.Equal(Tokenizer.Encode(expected), example.Tokens);
        var trained = example.Tokens.Where((_, i) => example.Weights[i] == 1).ToArray();
        Assert.Equal("<think></think>4<|im_end|>", Tokenizer.Decode(trained));
    }

    [Fact]
    public void GenerationPromptWithoutSystemGetsTheTemplatesOwn()
    {
        const string expected = DefaultSystem + "<|im_user|>user<|im_middle|>What is 2+2?<|im_end|><|im_assistant|>assistant<|im_middle|>";
        Assert.Equal(Tokenizer.Encode(expected), _renderer.BuildGenerationPrompt([ChatMessage.User("What is 2+2?")]));
    }

    [Fact]
    public void ToolDeclarationsCallsAndResultsKeepTheAgenticTurnsReasoning()
    {
        ChatMessage[] messages =
        [
            ChatMessage.User("Weather in Paris and Oslo?"),
            new ChatMessage("assistant", "") { Reasoning = "I need both cities.", ToolCalls = [Call(0, "Paris"), Call(1, "Oslo")] },
            new ChatMessage("tool", "18") { ToolCallId = "functions.get_weather:0" },
            new ChatMessage("tool", "9") { ToolCallId = "functions.get_weather:1" },
        ];
        const string expected = Declared + DefaultSystem + "<|im_user|>user<|im_middle|>Weather in Paris and Oslo?<|im_end|><|im_assistant|>assistant<|im_middle|><think>I need both cities.</think><|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\"}<|tool_call_end|><|tool_call_begin|>functions.get_weather:1<|tool_call_argument_begin|>{\"city\": \"Oslo\"}<|tool_call_end|><|tool_calls_section_end|><|im_end|><|im_system|>tool<|im_middle|>## Return of functions.get_weather:0\n18<|im_end|><|im_system|>tool<|im_middle|>## Return of functions.get_weather:1\n9<|im_end|><|im_assistant|>assistant<|im_middle|>";
        Assert.Equal(Tokenizer.Encode(expected), _renderer.BuildGenerationPrompt(messages, [WeatherTool]));

        // Without ids (our messages from a recipe), calls are numbered through the conversation
        // and results answer the oldest open call: the same tokens.
        ChatMessage[] withoutIds =
        [
            messages[0],
            messages[1] with { ToolCalls = [Call(0, "Paris") with { Id = null }, Call(1, "Oslo") with { Id = null }] },
            new ChatMessage("tool", "18"),
            new ChatMessage("tool", "9"),
        ];
        Assert.Equal(Tokenizer.Encode(expected), _renderer.BuildGenerationPrompt(withoutIds, [WeatherTool]));
    }

    [Fact]
    public void AnAnswerAfterToolsClosesTheAgenticTurn()
    {
        ChatMessage[] messages =
        [
            ChatMessage.User("Weather in Paris?"),
            new ChatMessage("assistant", "Checking.") { Reasoning = "call it", ToolCalls = [Call(0, "Paris")] },
            new ChatMessage("tool", "18") { ToolCallId = "functions.get_weather:0" },
            ChatMessage.Assistant("18 °C in Paris.") with { Reasoning = "read the result" },
            ChatMessage.User("Thanks!"),
        ];
        const string expected = Declared + DefaultSystem + "<|im_user|>user<|im_middle|>Weather in Paris?<|im_end|><|im_assistant|>assistant<|im_middle|><think></think>Checking.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\"}<|tool_call_end|><|tool_calls_section_end|><|im_end|><|im_system|>tool<|im_middle|>## Return of functions.get_weather:0\n18<|im_end|><|im_assistant|>assistant<|im_middle|><think></think>18 °C in Paris.<|im_end|><|im_user|>user<|im_middle|>Thanks!<|im_end|><|im_assistant|>assistant<|im_middle|>";
        Assert.Equal(Tokenizer.Encode(expected), _renderer.BuildGenerationPrompt(messages, [WeatherTool]));
    }

    [Fact]
    public void CompletionsParseIntoReasoningContentAndCalls()
    {
        var message = _renderer.ParseText("<think>Both cities.</think>Let me check.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\"}<|tool_call_end|><|tool_call_begin|>functions.get_weather:1<|tool_call_argument_begin|>{\"city\": \"Oslo\"}<|tool_call_end|><|tool_calls_section_end|><|im_end|>");
        Assert.Equal("Both cities.", message.Reasoning);
        Assert.Equal("Let me check.", message.Content);
        Assert.Equal(2, message.ToolCalls!.Count);
        Assert.Equal(("get_weather", "{\"city\": \"Oslo\"}", "functions.get_weather:1"), (message.ToolCalls[1].Name, message.ToolCalls[1].ArgumentsJson, message.ToolCalls[1].Id));

        // A call whose arguments are not JSON stays in the text; a plain answer has no reasoning.
        var broken = _renderer.ParseText("<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{oops<|tool_call_end|><|tool_calls_section_end|>");
        Assert.Null(broken.ToolCalls);
        Assert.Contains("{oops", broken.Content);
        Assert.Equal(new ChatMessage("assistant", "4"), _renderer.ParseText("4<|im_end|>"));

        // Parsing what the renderer writes for an assistant turn gives the message back.
        var turn = new ChatMessage("assistant", "Checking.") { Reasoning = "call it", ToolCalls = [Call(0, "Paris")] };
        var rendered = _renderer.BuildSupervisedExample([ChatMessage.System("s"), ChatMessage.User("u"), turn]);
        string text = Tokenizer.Decode(rendered.Tokens.Where((_, i) => rendered.Weights[i] == 1).ToArray());
        var back = _renderer.ParseText(text);
        Assert.Equal((turn.Content, turn.Reasoning, turn.ToolCalls![0]), (back.Content, back.Reasoning, back.ToolCalls![0]));
    }

    [Fact]
    public void TheFactoryPicksKimiForItsTokensAndStopsOnImEnd()
    {
        Assert.IsType<KimiK2Renderer>(RendererFactory.For(Tokenizer));
        Assert.Equal([Tokenizer.TokenToId("<|im_end|>")!.Value], _renderer.StopTokenIds);
    }
}
