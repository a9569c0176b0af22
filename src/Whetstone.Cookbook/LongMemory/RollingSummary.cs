namespace Whetstone.Cookbook.LongMemory;

/// <summary>The rolling-summary baseline at a budget of B tokens: the context is a summary written
/// by the model followed by the most recent turns verbatim. When the turns no longer fit beside
/// the summary, the oldest of them (down to half the budget left for turns) are folded into a new
/// summary by the model: it is shown the old summary and those turns and asked for at most
/// <see cref="SummaryShare"/> × B tokens. A summary that comes back longer is cut to its last
/// tokens that fit, so the context never exceeds B. Model calls: one per ~B/2 tokens of history.</summary>
public sealed class RollingSummary(int budget, Func<string, int> countTokens, Func<string, int, string> lastTokens,
    Func<string, int, Task<string>> summarize)
{
    public const double SummaryShare = 0.25;
    public const string Instruction = "Summarise this conversation memory in at most {0} tokens. Keep names, places, dates, numbers, preferences and the latest value of anything that changed.";

    readonly List<string> _recent = [];
    string _summary = "";

    public int SummaryCalls { get; private set; }

    /// <summary>The context as it stands: summary (if any), then the recent turns.</summary>
    public string Context => string.Join("\n", (_summary.Length > 0 ? [_summary] : Array.Empty<string>()).Concat(_recent));

    public int ContextTokens => countTokens(Context);

    public async Task AddAsync(string turn)
    {
        _recent.Add(turn);
        if (countTokens(Context) <= budget) return;
        int summaryTokens = (int)(SummaryShare * budget);
        // Keep the newest turns that fit in half of what the summary leaves; fold the rest.
        int keepRoom = (budget - summaryTokens) / 2, used = 0, keepFrom = _recent.Count;
        while (keepFrom > 0 && used + countTokens(_recent[keepFrom - 1]) + 1 <= keepRoom) used += countTokens(_recent[--keepFrom]) + 1;
        var folded = _recent.Take(keepFrom).ToArray();
        _recent.RemoveRange(0, keepFrom);
        string prompt = string.Format(System.Globalization.CultureInfo.InvariantCulture, Instruction, summaryTokens) +
            "\n\nSummary so far:\n" + _summary + "\n\nNew turns:\n" + string.Join("\n", folded) + "\n\nSummary:\n";
        string written = (await summarize(prompt, summaryTokens)).Trim();
        SummaryCalls++;
        _summary = countTokens(written) <= summaryTokens ? written : lastTokens(written, summaryTokens);
        // A single turn longer than the rest of the budget: only its tail fits.
        while (countTokens(Context) > budget && _recent.Count > 0)
        {
            int room = budget - countTokens(_summary) - 1;
            if (_recent.Count > 1) _recent.RemoveAt(0);
            else _recent[0] = room > 0 ? lastTokens(_recent[0], room) : "";
        }
    }
}
