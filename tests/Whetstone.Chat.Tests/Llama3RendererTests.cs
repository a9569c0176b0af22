
namespace Whetstone.Chat.Tests;

/// <summary>Expected texts are what Llama 3 Instruct's Hugging Face chat template produces,
/// written out by hand (content trimmed, begin_of_text once).</summary>
public class Llama3RendererTests
{
    readonly Llama3Renderer _renderer = new(RendererTokenizers.Llama3);

    static readonly ChatMessage[] Conversation =
    [
        ChatMessage.System("You are terse."),
        ChatMessage.User("  What is 2+2?\n"),
        ChatMessage.Assistant("4"),
    ];

    [Fact]
    public void SupervisedExampleIsTheTemplatesTextTokenForToken()
    {
        const string expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>";
        var example = _renderer.BuildSupervisedExample(Conversation);
        Assert.Equal(RendererTokenizers.Llama3.Encode(expected), example.Tokens);
        var trained = example.Tokens.Where((_, i) => example.Weights[i] == 1).ToArray();
        Assert.Equal("4<|eot_id|>", RendererTokenizers.Llama3.Decode(trained));
    }

    [Fact]
    public void GenerationPromptAndParsing()
    {
        var prompt = _renderer.BuildGenerationPrompt(Conversation.Take(2).ToArray());
        Assert.Equal(RendererTokenizers.Llama3.Encode("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"), prompt);
        Assert.Equal([RendererTokenizers.Llama3.TokenToId("<|eot_id|>")!.Value], _renderer.StopTokenIds);
        Assert.Equal("4", _renderer.ParseResponse(RendererTokenizers.Llama3.Encode("4<|eot_id|>")).Content);
    }
}
