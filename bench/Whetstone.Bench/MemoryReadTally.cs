using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Bench;

/// <summary>One scorer row of --memory-scorer, read the same way whether the engine folded the
/// memory (online) or the server did (/v1): the final memory's spans packed within B in the given
/// priority, the pattern reader's right answers per question kind on that context, and how many of
/// the lines later questions needed the memory still holds verbatim.</summary>
internal sealed class MemoryReadTally(MemoryBenchServer bench)
{
    static readonly QuestionKind[] Kinds = Enum.GetValues<QuestionKind>();
    readonly Dictionary<QuestionKind, int> _right = Kinds.ToDictionary(k => k, _ => 0);
    readonly Dictionary<QuestionKind, int> _asked = Kinds.ToDictionary(k => k, _ => 0);
    int _kept, _needed;

    /// <summary>Reads one conversation's final memory: <paramref name="texts"/> are its spans'
    /// texts, <paramref name="priority"/> the span indices in the order they are packed.</summary>
    public void Add(LongMemoryConversation conversation, IReadOnlyList<string> texts, IEnumerable<int> priority, int budget)
    {
        string context = ContextPacking.Join(texts, ContextPacking.Pack(texts, priority, budget, bench.Count));
        var neededLines = conversation.Turns.Where(t => SpanValueRecipe.Needed(conversation, t.User)).Select(t => t.User).ToArray();
        _needed += neededLines.Length;
        _kept += neededLines.Count(n => texts.Any(t => t.Contains(n, StringComparison.Ordinal)));
        foreach (var q in conversation.Questions)
        {
            _asked[q.Kind]++;
            if (PatternReader.Correct(q, PatternReader.Answer(q.Question, context, bench.LastTokens))) _right[q.Kind]++;
        }
    }

    /// <summary>The markdown header (two lines) of the rows <see cref="Row"/> writes.</summary>
    public static string Header =>
        $"| history tokens | B | scorer | {string.Join(" | ", Kinds)} | all | needed lines kept verbatim | s |\n|---|---|---|{string.Concat(Kinds.Select(_ => "---|"))}---|---|---|";

    /// <summary>The row: per-kind right/asked, all, needed lines kept, seconds.</summary>
    public string Row(int history, int budget, string name, TimeSpan elapsed) =>
        $"| {history:N0} | {budget} | {name} | {string.Join(" | ", Kinds.Select(k => $"{_right[k]}/{_asked[k]}"))} | {_right.Values.Sum()}/{_asked.Values.Sum()} | {_kept}/{_needed} | {elapsed.TotalSeconds:F0} |";
}
