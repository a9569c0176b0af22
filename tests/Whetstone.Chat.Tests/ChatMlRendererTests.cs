using Whetstone.Tokenization;

namespace Whetstone.Chat.Tests;

/// <summary>Expected texts are what the plain ChatML template of Whetstone's zoo models
/// (tokenizer_config.json of models/whet-nano) produces for the same messages.</summary>
public class ChatMlRendererTests
{
    readonly ChatMlRenderer _renderer = new(RendererTokenizers.ChatMl);

    [Fact]
    public void EveryMessageIsOneTurnWithItsRoleAsGiven()
    {
        ChatMessage[] messages = [ChatMessage.System("You are terse."), ChatMessage.User("What is 2+2?"), ChatMessage.Assistant("4"), new ChatMessage("tool", "ok")];
        const string expected = "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>tool\nok<|im_end|>\n";
        Assert.Equal(RendererTokenizers.ChatMl.Encode(expected), _renderer.BuildSupervisedExample(messages).Tokens);
    }

    [Fact]
    public void ReasoningAndToolCallsAreWrittenIntoTheContentAndParseBack()
    {
        var message = new ChatMessage("assistant", "Adding.") { Reasoning = "easy", ToolCalls = [new ToolCall("add", "{\"a\": 2}")] };
        var example = _renderer.BuildSupervisedExample([ChatMessage.User("Add."), message]);
        var trained = example.Tokens.Where((_, i) => example.Weights[i] == 1).ToArray();
        var parsed = _renderer.ParseResponse(trained);
        Assert.Equal("Adding.", parsed.Content);
        Assert.Equal("easy", parsed.Reasoning);
        Assert.Equal("{\"a\": 2}", Assert.Single(parsed.ToolCalls!).ArgumentsJson);
    }

    [Fact]
    public void TheFactoryPicksQwen3ForAThinkingTemplateAndPlainChatMlOtherwise()
    {
        var nano = Path.Combine(RepositoryRoot(), "models", "whet-nano");
        Assert.IsType<ChatMlRenderer>(RendererFactory.For(HuggingFaceTokenizer.Load(nano)));

        var qwen3Like = Path.Combine(Path.GetTempPath(), "whetstone-cookbook-tests", "qwen3-template-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(qwen3Like);
        File.Copy(Path.Combine(nano, "tokenizer.json"), Path.Combine(qwen3Like, "tokenizer.json"));
        File.WriteAllText(Path.Combine(qwen3Like, "tokenizer_config.json"),
            """{"eos_token": "<|im_end|>", "chat_template": [{"name": "default", "template": "{{- '<|im_start|>assistant\\n<think>\\n' }}"}, {"name": "tool_use", "template": "x"}]}""");
        var tokenizer = HuggingFaceTokenizer.Load(qwen3Like);
        Assert.StartsWith("{{- '<|im_start|>assistant", tokenizer.ChatTemplate);
        Assert.IsType<Qwen3Renderer>(RendererFactory.For(tokenizer));
    }

    static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "README.md"))) directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("repository root not found above " + AppContext.BaseDirectory);
    }
}
