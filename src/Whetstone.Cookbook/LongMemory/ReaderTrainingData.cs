using System.Text.Json;

namespace Whetstone.Cookbook.LongMemory;

/// <summary>SFT examples for the model reader: a context in one of the shapes the benchmark's methods
/// produce, then the conversation's questions in a random order, each answered with what the context
/// states (<see cref="PatternReader"/> on that context: the latest value, "unknown" when the context
/// no longer says it). The reader is taught to read faithfully; whether the method kept the answer
/// is the benchmark's question, not the reader's. Shapes, each at a token length drawn from
/// [<c>minTokens</c>, <c>maxTokens</c>]:
/// <list type="bullet">
/// <item>whole history (the oracle);</item>
/// <item>truncation: the last turns of a history up to 4× longer;</item>
/// <item>retrieved turns: BM25 for one question (that question asked first), packed in the budget;</item>
/// <item>a memory's text: "user: …" lines with small talk thinned, "assistant: …" lines between them,
/// and some lines cut to their content words (the extractive refill's shape).</item>
/// </list>
/// Conversations use seeds from <c>firstSeed</c> up; the benchmark's seeds (1 … 100) are never used
/// when firstSeed ≥ 1,000.</summary>
public static class ReaderTrainingData
{
    public enum Shape { Oracle, Truncation, Retrieved, MemoryText }

    static readonly string[] Replies = ["Noted.", "Okay.", "Got it.", "Thanks for telling me.", "I see."];
    static readonly HashSet<string> Filler = new(StringComparer.OrdinalIgnoreCase)
    { "a", "an", "the", "and", "of", "to", "is", "am", "i", "my", "was", "it", "some", "just", "then", "again", "very", "for", "about", "user", "today", "these", "days", "now" };

    /// <summary>One example: its chat messages, shape and context length in tokens.</summary>
    public sealed record Example(IReadOnlyList<(string Role, string Content)> Messages, Shape Shape, int ContextTokens);

    /// <summary>The examples. With <paramref name="unknownShare"/> set, the labels are rebalanced by
    /// <see cref="ReaderLabelBalance"/> (questions whose context lost the answer mostly dropped) and a
    /// context with no answered question is skipped, so seeds run past firstSeed + count − 1.</summary>
    public static IEnumerable<Example> Generate(int count, int minTokens, int maxTokens, int firstSeed, Func<string, int> countTokens, Func<string, int, string> lastTokens, double? unknownShare = null)
    {
        for (int i = 0, made = 0; made < count; i++)
        {
            var random = new Random(firstSeed * 7_919 + i);
            int target = random.Next(minTokens, maxTokens + 1);
            var shape = (Shape)(i % 4);
            int history = shape switch { Shape.Oracle => target, Shape.MemoryText => (int)(target * 1.5), _ => target * random.Next(1, 5) };
            var conversation = LongMemoryGenerator.Generate(firstSeed + i, Math.Max(60, history - 60), countTokens);
            var questions = conversation.Questions.OrderBy(_ => random.Next()).ToList();
            string context;
            switch (shape)
            {
                case Shape.Oracle:
                    context = string.Join("\n", conversation.Turns.Select(t => t.User));
                    break;
                case Shape.Truncation:
                    context = string.Join("\n", ContextBaselines.Truncation(conversation.Turns, target, countTokens));
                    break;
                case Shape.Retrieved:
                    var first = questions[0];
                    context = string.Join("\n", ContextBaselines.Bm25(conversation.Turns, first.Question, target, countTokens));
                    break;
                default:
                    context = MemoryText(conversation, target, random, countTokens);
                    break;
            }
            // The reader's window: what it reads of an over-long context is its last maxTokens tokens.
            context = lastTokens(context, maxTokens);
            var labelled = questions.Select(q => (q.Question, PatternReader.Answer(q.Question, context, lastTokens))).ToList();
            if (unknownShare is { } share)
            {
                labelled = ReaderLabelBalance.Keep(labelled, random, share);
                if (labelled.Count == 0) continue;
            }
            var messages = new List<(string, string)>();
            foreach (var (question, answer) in labelled)
            {
                messages.Add(("user", messages.Count == 0 ? ReaderPrompt.First(context, question) : ReaderPrompt.Question(question)));
                messages.Add(("assistant", answer));
            }
            made++;
            yield return new Example(messages, shape, countTokens(context));
        }
    }

    /// <summary>A memory's text at about <paramref name="budget"/> tokens: every scripted line and a
    /// random share of small talk, newest kept first, with model replies and some compressed lines.</summary>
    static string MemoryText(LongMemoryConversation conversation, int budget, Random random, Func<string, int> countTokens)
    {
        var lines = new List<string>();
        foreach (var turn in conversation.Turns)
        {
            bool talk = LongMemoryGenerator.IsSmallTalk(turn.User);
            if (talk && random.NextDouble() < 0.5) continue;
            string text = random.NextDouble() < 0.2 ? Compress(turn.User) : "user: " + turn.User;
            lines.Add(text);
            if (random.NextDouble() < 0.5) lines.Add("assistant: " + Replies[random.Next(Replies.Length)]);
        }
        var packed = ContextPacking.Pack(lines, Enumerable.Range(0, lines.Count).Reverse(), budget, countTokens);
        return ContextPacking.Join(lines, packed);
    }

    static string Compress(string line) =>
        string.Join(" ", line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !Filler.Contains(w.Trim(',', '.', ':'))));

    /// <summary>One chat JSONL line ({"messages": [{"role", "content"}, …]}).</summary>
    public static string ToJsonl(Example example) => ChatJsonl(example.Messages);

    /// <summary>One line of `whet train sft`'s chat JSONL: the reader data and the copy curriculum
    /// (<see cref="ReaderCopyCurriculum"/>) write the same format, so their files mix line by line.</summary>
    internal static string ChatJsonl(IReadOnlyList<(string Role, string Content)> messages) =>
        JsonSerializer.Serialize(new { messages = messages.Select(m => new { role = m.Role, content = m.Content }) });
}
