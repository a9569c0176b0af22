namespace Whetstone.Chat;

/// <summary>A renderer whose family's chat template renders tool definitions into the prompt
/// (Qwen3's system block, Llama 3.1's first user turn). Tools are the request's tool objects as
/// JSON text ({"type": "function", "function": {...}}), rendered in the order given.</summary>
public interface IToolPromptRenderer : IRenderer
{
    IReadOnlyList<int> BuildGenerationPrompt(IReadOnlyList<ChatMessage> messages, IReadOnlyList<string> toolsJson);

    /// <summary>How this family writes a call, as its completion parser reads it back.</summary>
    ToolCallFormat CallFormat { get; }
}
