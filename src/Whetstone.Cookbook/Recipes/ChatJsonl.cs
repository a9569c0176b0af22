using System.Text.Json;
using Whetstone.Chat;

namespace Whetstone.Cookbook.Recipes;

/// <summary>Reads OpenAI-style chat JSONL ({"messages": [{"role", "content"}, …]} per line).
/// A bad line is reported with its number and why — and skipped, or refused, as the caller asks.</summary>
public static class ChatJsonl
{
    static readonly HashSet<string> Roles = ["system", "user", "assistant", "tool"];

    public static List<IReadOnlyList<ChatMessage>> Read(string path, bool skipBadLines, Action<string> report)
    {
        var conversations = new List<IReadOnlyList<ChatMessage>>();
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                conversations.Add(Parse(line));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                var message = $"{path}:{number}: {e.Message}";
                if (!skipBadLines) throw new FormatException(message, e);
                report($"skipped {message}");
            }
        }
        return conversations;
    }

    static IReadOnlyList<ChatMessage> Parse(string line)
    {
        using var json = JsonDocument.Parse(line);
        if (!json.RootElement.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            throw new FormatException("no \"messages\" array");
        var result = new List<ChatMessage>();
        foreach (var m in messages.EnumerateArray())
        {
            string role = m.GetProperty("role").GetString() ?? throw new FormatException("a message has no role");
            if (!Roles.Contains(role)) throw new FormatException($"role '{role}' is not system, user, assistant or tool");
            var content = m.GetProperty("content");
            if (content.ValueKind != JsonValueKind.String) throw new FormatException("content must be a string");
            result.Add(new ChatMessage(role, content.GetString()!));
        }
        if (!result.Any(m => m.Role == "assistant")) throw new FormatException("no assistant message to train on");
        return result;
    }
}
