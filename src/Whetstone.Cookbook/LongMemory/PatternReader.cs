using System.Text.RegularExpressions;

namespace Whetstone.Cookbook.LongMemory;

/// <summary>A deterministic extractive reader for the long-memory benchmark: it answers each of the
/// generator's question templates by finding the statement that answers it in the context, with
/// patterns that tolerate dropped function words ("dog called Rex" reads like "my dog is called
/// Rex"), the latest statement winning, and "unknown" when nothing in the context states it.
/// It stands in for the issue's SFT-trained zoo reader, which does not exist: the zoo's models are
/// random or barely trained tiny models that cannot read (docs/results/memory-diffusion.md). What it
/// measures is whether a context still states the answer in a readable form, which is stricter than
/// <see cref="EvidenceCheck"/> (words present anywhere) and scores abstention. It knows the
/// generator's phrasings, so it is an upper bound on a real reader of the same context, not a model.
/// It reads at most <see cref="ContextTokens"/> tokens (the last ones).</summary>
public static class PatternReader
{
    public const int ContextTokens = 4096;

    const string Gap = @"(?:\W+\w+){0,3}?\W+";   // up to three words left out between the cue and the answer
    const string Name = @"([A-Z][a-z]+)";
    const string Date = @"\[(\d{4}-\d{2}-\d{2})\]";

    /// <summary>The answer, or <see cref="MemoryQuestion.Unknown"/>. <paramref name="lastTokens"/> cuts the
    /// context to the reader's window: it returns the context's last n tokens as text.</summary>
    public static string Answer(string question, string context, Func<string, int, string> lastTokens)
    {
        string text = lastTokens(context, ContextTokens);
        string? answer = question switch
        {
            "What is my dog called?" => Last(text, $@"\bdog\b{Gap}{Name}"),
            "What is my job?" => Last(text, @"\bI\s+am\s+an?\s+([a-z]+)") ?? Last(text, @"\b(?:Hi|Hello),?\s+(?:I\s+)?(?:am\s+)?an?\s+([a-z]+)"),
            "In which city does my sister live?" => Last(text, $@"\bsister\b{Gap}{Name}") is { } sister
                ? Last(text, $@"\b{Regex.Escape(sister)}\b{Gap}?(?:lives\s+)?in\s+{Name}")
                : null,
            "In which city do I live now?" => Last(text, $@"\b(?:live|living|moved)\b{Gap}?in\s+{Name}"),
            "What is my favourite food now?" => Last(text, $@"\bfavourite\s+food\b{Gap}?(?:is\s+)?([a-z]+)"),
            _ => Temporal(question, text),
        };
        return answer ?? MemoryQuestion.Unknown;
    }

    /// <summary>Right when it equals the expected answer, ignoring case.</summary>
    public static bool Correct(MemoryQuestion question, string answer) => string.Equals(question.Answer, answer, StringComparison.OrdinalIgnoreCase);

    static string? Temporal(string question, string text)
    {
        var first = Regex.Match(question, @"^Which came first: I (.+), or I (.+)\?$");
        if (first.Success)
        {
            var (a, b) = (first.Groups[1].Value, first.Groups[2].Value);
            var (da, db) = (DateOf(text, a), DateOf(text, b));
            if (da is null || db is null) return null;
            return string.CompareOrdinal(da, db) <= 0 ? a : b;
        }
        var when = Regex.Match(question, @"^On which date did I (.+)\?$");
        return when.Success ? DateOf(text, when.Groups[1].Value) : null;
    }

    /// <summary>The date tag of the last line where "Today I {activity}" (or the activity alone) is said.</summary>
    static string? DateOf(string text, string activity) =>
        Last(text, $@"{Date}[^\[\n]*?\b(?:Today\s+I\s+)?{Regex.Escape(activity)}");

    static string? Last(string text, string pattern)
    {
        var matches = Regex.Matches(text, pattern);
        return matches.Count == 0 ? null : matches[^1].Groups[1].Value;
    }
}
