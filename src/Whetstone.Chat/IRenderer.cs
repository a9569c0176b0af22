namespace Whetstone.Chat;

/// <summary>Turns messages into tokens the way the model's chat template does (written out in
/// code, not Jinja, as in Tinker's cookbook), builds prompts for sampling, and parses a sampled
/// completion back into a message.</summary>
public interface IRenderer
{
    SupervisedExample BuildSupervisedExample(IReadOnlyList<ChatMessage> messages, TrainOnWhat trainOn = TrainOnWhat.LastAssistantMessage);

    /// <summary>The conversation so far plus the header of the assistant's next turn.</summary>
    IReadOnlyList<int> BuildGenerationPrompt(IReadOnlyList<ChatMessage> messages);

    /// <summary>Token ids that end an assistant turn (pass to the sampler as stop token ids).</summary>
    IReadOnlyList<int> StopTokenIds { get; }

    /// <summary>A sampled completion (up to and including its stop token, if any) as a message.</summary>
    ChatMessage ParseResponse(IReadOnlyList<int> completion);

    /// <summary>A completion's decoded text as a message (what <see cref="ParseResponse"/> does
    /// after decoding; the OpenAI API parses text it has already cut at the caller's stop strings).</summary>
    ChatMessage ParseText(string text);
}
