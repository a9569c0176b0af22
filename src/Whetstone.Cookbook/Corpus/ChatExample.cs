using Whetstone.Chat;

namespace Whetstone.Cookbook.Corpus;

/// <summary>One generated conversation, the skill it exercises and the answer a grader expects.</summary>
public sealed record ChatExample(string Task, IReadOnlyList<ChatMessage> Messages, string Answer)
{
    /// <summary>The conversation without its final assistant turn: what a model is asked.</summary>
    public IReadOnlyList<ChatMessage> Prompt => Messages.Take(Messages.Count - 1).ToArray();
}
