using Whetstone.Chat;
using Whetstone.Service.Loops;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.Loops;

/// <summary>rl.anchor_bare_question: the anchor's prompts are the served questions without the
/// system message a user stated their taste in, re-rendered as the chat endpoint renders a lone user
/// message (so the anchor holds the answers to the bare question, and no longer pulls a "be concise"
/// prompt back to the deployed answer its correction moves away from).</summary>
public class LoopAnchorBareQuestionTests
{
    static readonly HuggingFaceTokenizer Tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);
    static readonly IRenderer Renderer = RendererFactory.For(Tokenizer);

    static IReadOnlyList<int> Render(params ChatMessage[] messages) => Renderer.BuildGenerationPrompt(messages);

    static IReadOnlyList<IReadOnlyList<int>> Bare(params IReadOnlyList<int>[] prompts) =>
        LoopAnchor.BareQuestions(prompts, p => Tokenizer.Decode(p), q => Render(new ChatMessage("user", q)));

    [Fact]
    public void APromptWithASystemMessageBecomesTheUserMessageAlone()
    {
        var stated = Render(new ChatMessage("system", "Be concise: all work on one line. Do not use the word \"carry\"."), new ChatMessage("user", "What is 57 + 68?"));
        var bare = Render(new ChatMessage("user", "What is 57 + 68?"));
        Assert.NotEqual(bare, stated);

        var result = Assert.Single(Bare(stated));
        Assert.Equal(bare, result);
        Assert.Equal("<|im_start|>user\nWhat is 57 + 68?<|im_end|>\n<|im_start|>assistant\n", Tokenizer.Decode(result));
    }

    [Fact]
    public void ABarePromptIsKeptAsServedAndTwoTastesOfOneQuestionBecomeOnePrompt()
    {
        var bare = Render(new ChatMessage("user", "What is 72 - 38?"));
        var concise = Render(new ChatMessage("system", "Be concise: all work on one line."), new ChatMessage("user", "What is 72 - 38?"));
        var detailed = Render(new ChatMessage("system", "Show each step on its own line."), new ChatMessage("user", "What is 72 - 38?"));
        var other = Render(new ChatMessage("system", "Show each step on its own line."), new ChatMessage("user", "What is 23 + 45?"));

        var result = Bare(bare, concise, detailed, other);

        Assert.Equal(2, result.Count);
        Assert.Equal(bare, result[0]);
        Assert.Equal(Render(new ChatMessage("user", "What is 23 + 45?")), result[1]);
    }

    [Fact]
    public void APromptThatIsNotChatMlIsKeptAsServed()
    {
        IReadOnlyList<int> raw = Tokenizer.Encode("What is 2 + 3?");
        Assert.Equal(raw, Assert.Single(Bare(raw)));
        Assert.Null(LoopAnchor.LastUserMessage("What is 2 + 3?"));
        Assert.Null(LoopAnchor.LastUserMessage("<|im_start|>user\nunterminated"));
        Assert.Equal("second", LoopAnchor.LastUserMessage("<|im_start|>user\nfirst<|im_end|>\n<|im_start|>assistant\nok<|im_end|>\n<|im_start|>user\nsecond<|im_end|>\n"));
    }
}
