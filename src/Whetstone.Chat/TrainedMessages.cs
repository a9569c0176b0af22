namespace Whetstone.Chat;

/// <summary>Which messages of a conversation a <see cref="TrainOnWhat"/> trains — the same rule for
/// every renderer.</summary>
internal static class TrainedMessages
{
    public static bool[] Of(IReadOnlyList<ChatMessage> messages, TrainOnWhat trainOn)
    {
        int lastAssistant = LastIndex(messages, "assistant");
        return messages.Select((m, i) => trainOn switch
        {
            TrainOnWhat.AllMessages => true,
            TrainOnWhat.AllAssistantMessages => m.Role == "assistant",
            _ => i == lastAssistant,
        }).ToArray();
    }

    public static int LastIndex(IReadOnlyList<ChatMessage> messages, string role)
    {
        for (int i = messages.Count - 1; i >= 0; i--) if (messages[i].Role == role) return i;
        return -1;
    }
}
