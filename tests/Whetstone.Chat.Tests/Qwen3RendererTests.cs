
namespace Whetstone.Chat.Tests;

/// <summary>Expected texts are what Qwen3's Hugging Face chat template (tokenizer_config.json,
/// chat_template) produces for the same messages, written out by hand.</summary>
public class Qwen3RendererTests
{
    readonly Qwen3Renderer _renderer = new(RendererTokenizers.ChatMl);

    static readonly ChatMessage[] Conversation =
    [
        ChatMessage.System("You are terse."),
        ChatMessage.User("What is 2+2?"),
        ChatMessage.Assistant("4"),
    ];

    [Fact]
    public void SupervisedExampleIsTheTemplatesTextTokenForToken()
    {
        // The final assistant message always gets a think block, empty when it has no reasoning.
        const string expected = "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>\n";
        var example = _renderer.BuildSupervisedExample(Conversation);
        Assert.Equal(RendererTokenizers.ChatMl.Encode(expected), example.Tokens);
    }

    [Fact]
    public void OnlyTheLastAnswerAndItsEndTokenTrainByDefault()
    {
        var example = _renderer.BuildSupervisedExample(Conversation);
        var trained = example.Tokens.Where((_, i) => example.Weights[i] == 1).ToArray();
        Assert.Equal("<think>\n\n</think>\n\n4<|im_end|>", RendererTokenizers.ChatMl.Decode(trained));
        Assert.Equal(example.Tokens.Count, example.Weights.Count);
    }

    [Fact]
    public void AllAssistantMessagesAndAllMessagesWidenWhatTrains()
    {
        ChatMessage[] twoTurns = [ChatMessage.User("Hi"), ChatMessage.Assistant("Hello"), ChatMessage.User("Add 2 and 2."), ChatMessage.Assistant("4")];
        string Trained(TrainOnWhat what)
        {
            var example = _renderer.BuildSupervisedExample(twoTurns, what);
            return RendererTokenizers.ChatMl.Decode(example.Tokens.Where((_, i) => example.Weights[i] == 1).ToArray());
        }
        const string final = "<think>\n\n</think>\n\n4<|im_end|>";
        Assert.Equal(final, Trained(TrainOnWhat.LastAssistantMessage));
        Assert.Equal("Hello<|im_end|>" + final, Trained(TrainOnWhat.AllAssistantMessages));
        Assert.Equal("Hi<|im_end|>Hello<|im_end|>Add 2 and 2.<|im_end|>" + final, Trained(TrainOnWhat.AllMessages));
    }

    [Fact]
    public void ReasoningIsKeptAfterTheLastUserTurnAndDroppedBefore()
    {
        ChatMessage[] messages =
        [
            ChatMessage.User("Hi"),
            ChatMessage.Assistant("Hello") with { Reasoning = "greet back" },
            ChatMessage.User("What is 2+2?"),
            ChatMessage.Assistant("4") with { Reasoning = "add them" },
        ];
        const string expected = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
            + "<|im_start|>assistant\n<think>\nadd them\n</think>\n\n4<|im_end|>\n";
        Assert.Equal(RendererTokenizers.ChatMl.Encode(expected), _renderer.BuildSupervisedExample(messages).Tokens);
    }

    [Fact]
    public void ToolCallsAndGroupedToolResponsesFollowTheTemplate()
    {
        ChatMessage[] messages =
        [
            ChatMessage.User("Add 2 and 2, then 3 and 3."),
            new ChatMessage("assistant", "") { ToolCalls = [new ToolCall("add", "{\"a\": 2, \"b\": 2}"), new ToolCall("add", "{\"a\": 3, \"b\": 3}")] },
            new ChatMessage("tool", "4"),
            new ChatMessage("tool", "6"),
            ChatMessage.Assistant("4 and 6."),
        ];
        // Calls after an empty answer start without a newline and are separated by one; the two
        // results share one user turn; the final answer gets the (empty) think block.
        const string expected = "<|im_start|>user\nAdd 2 and 2, then 3 and 3.<|im_end|>\n"
            + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 2}}\n</tool_call>\n"
            + "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 3, \"b\": 3}}\n</tool_call><|im_end|>\n"
            + "<|im_start|>user\n<tool_response>\n4\n</tool_response>\n<tool_response>\n6\n</tool_response><|im_end|>\n"
            + "<|im_start|>assistant\n<think>\n\n</think>\n\n4 and 6.<|im_end|>\n";
        Assert.Equal(RendererTokenizers.ChatMl.Encode(expected), _renderer.BuildSupervisedExample(messages).Tokens);
    }

    [Fact]
    public void AnswerBeforeAToolCallIsSeparatedByANewlineAndToolResultsDoNotCountAsTheQuery()
    {
        ChatMessage[] messages =
        [
            ChatMessage.User("Add 2 and 2."),
            new ChatMessage("assistant", "Let me add.") { Reasoning = "use the tool", ToolCalls = [new ToolCall("add", "{\"a\": 2, \"b\": 2}")] },
            ChatMessage.User("<tool_response>\n4\n</tool_response>"),
            ChatMessage.Assistant("4") with { Reasoning = "the tool said 4" },
        ];
        // The wrapped result written as a user message is not the last query, so both assistant
        // turns come after it and both keep their reasoning.
        const string expected = "<|im_start|>user\nAdd 2 and 2.<|im_end|>\n"
            + "<|im_start|>assistant\n<think>\nuse the tool\n</think>\n\nLet me add.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 2}}\n</tool_call><|im_end|>\n"
            + "<|im_start|>user\n<tool_response>\n4\n</tool_response><|im_end|>\n"
            + "<|im_start|>assistant\n<think>\nthe tool said 4\n</think>\n\n4<|im_end|>\n";
        Assert.Equal(RendererTokenizers.ChatMl.Encode(expected), _renderer.BuildSupervisedExample(messages).Tokens);
    }

    [Fact]
    public void TrainedToolResultsIncludeTheirWrappingButNotTheTurnHeader()
    {
        ChatMessage[] messages = [ChatMessage.User("Go."), new ChatMessage("tool", "4"), new ChatMessage("tool", "6"), ChatMessage.Assistant("done")];
        var example = _renderer.BuildSupervisedExample(messages, TrainOnWhat.AllMessages);
        var trained = RendererTokenizers.ChatMl.Decode(example.Tokens.Where((_, i) => example.Weights[i] == 1).ToArray());
        Assert.Equal("Go.<|im_end|>\n<tool_response>\n4\n</tool_response>\n<tool_response>\n6\n</tool_response><|im_end|><think>\n\n</think>\n\ndone<|im_end|>", trained);
    }

    [Fact]
    public void GenerationPromptEndsWithTheAssistantHeaderAndStopsAtImEnd()
    {
        var prompt = _renderer.BuildGenerationPrompt(Conversation.Take(2).ToArray());
        Assert.Equal(RendererTokenizers.ChatMl.Encode("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"), prompt);
        Assert.Equal([RendererTokenizers.ChatMl.TokenToId("<|im_end|>")!.Value], _renderer.StopTokenIds);
    }

    [Fact]
    public void ResponsesParseIntoReasoningContentAndToolCalls()
    {
        var tokenizer = RendererTokenizers.ChatMl;
        var thought = _renderer.ParseResponse(tokenizer.Encode("<think>\nadd them\n</think>\n\nThe answer is 4.<|im_end|>"));
        Assert.Equal("add them", thought.Reasoning);
        Assert.Equal("The answer is 4.", thought.Content);
        var call = _renderer.ParseResponse(tokenizer.Encode("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 2}}\n</tool_call><|im_end|>"));
        var toolCall = Assert.Single(call.ToolCalls!);
        Assert.Equal("add", toolCall.Name);
        Assert.Equal("{\"a\": 2, \"b\": 2}", toolCall.ArgumentsJson);
        Assert.Equal("", call.Content);
        var truncated = _renderer.ParseResponse(tokenizer.Encode("no end token"));
        Assert.Equal("no end token", truncated.Content);
    }
}
