using System.Globalization;
using Whetstone.Cookbook.Corpus;

namespace Whetstone.Cookbook.SimulatedUsers;

/// <summary>What a simulated user wants, hidden from the server: concise or worked answers, a
/// required format ("Answer: N"), the question kind they ask about, a phrasing they dislike.</summary>
public sealed record UserPreferences(bool Concise, bool RequiresAnswerLine, string Topic, string DislikedPhrase)
{
    /// <summary>After the drift: the opposite taste in length, and another phrase disliked.</summary>
    /// <summary>What a user who states their taste writes in the system prompt (as real users put
    /// "be brief" or "avoid jargon" in theirs): the length they like and the word they dislike. The
    /// "Answer:" line and their topic stay unstated.</summary>
    public string Statement() =>
        $"{(Concise ? "Be concise: all work on one line." : "Show each step on its own line.")} Do not use the word \"{DislikedPhrase}\".";

    public UserPreferences Drifted() => this with { Concise = !Concise, DislikedPhrase = DislikedPhrase == "carry" ? "borrow" : "carry" };
}

/// <summary>How often a user gives each kind of feedback on an answer (per answer), and how noisy
/// their judgement is (σ of Gaussian noise on the satisfaction they act on).</summary>
public sealed record FeedbackHabits(double Thumbs, double Rating, double Correction, double Preference, double Noise);

/// <summary>A simulated user: hidden preferences, feedback habits, and the hidden satisfaction
/// score of an answer — computed here only, never sent to the server.</summary>
public sealed record SimulatedUser(string Id, UserPreferences Preferences, FeedbackHabits Habits)
{
    /// <summary>Hidden satisfaction in [0, 1]: 0.4 for a right final answer, 0.2 for the required
    /// "Answer:" line (or 0.2 when none is required), 0.25 for the length they like (concise: at most
    /// 2 lines; detailed: at least 3), 0.15 for avoiding the phrase they dislike.</summary>
    public double Satisfaction(UserQuestion question, string answer)
    {
        bool right = ArithmeticTask.ExtractAnswer(answer) == question.Expected;
        bool format = !Preferences.RequiresAnswerLine || answer.Contains("Answer:", StringComparison.Ordinal);
        int lines = answer.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        bool length = Preferences.Concise ? lines <= 2 : lines >= 3;
        bool phrasing = !answer.Contains(Preferences.DislikedPhrase, StringComparison.OrdinalIgnoreCase);
        return 0.4 * (right ? 1 : 0) + 0.2 * (format ? 1 : 0) + 0.25 * (length ? 1 : 0) + 0.15 * (phrasing ? 1 : 0);
    }

    /// <summary>The answer this user would have wanted (their correction): the corpus's worked steps
    /// with the user's taste applied — on one line for a concise user (two lines with the "Answer:"
    /// line), one step a line otherwise — and the disliked word replaced ("carry" → "keep", "borrow"
    /// → "take"). The work stays: a correction reading just "Answer: 68" asked whet-nano for a sum it
    /// cannot do without its steps, and SFT on such corrections broke its arithmetic (0 of 4 suite
    /// sums right, docs/results/experiential-loop.md run 5).</summary>
    public string IdealAnswer(UserQuestion question)
    {
        var (worked, result) = WorkedInTaste(question);
        if (Preferences.Concise) worked = string.Join(' ', worked.Split('\n', StringSplitOptions.RemoveEmptyEntries)) + "\n";
        return $"{worked}Answer: {result.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>The correction of a user who post-edits the answer they got instead of rewriting it:
    /// a right answer keeps its words and layout with the disliked word replaced ("carry" → "keep",
    /// "borrow" → "take"); a wrong or unfinished one is replaced by the corpus's worked steps, one a
    /// line, with the disliked word replaced. The layout is never changed, whatever length the user
    /// likes — they say that with thumbs and ratings (post-editors fix what is wrong with the least
    /// typing). Hidden satisfaction is computed as before.</summary>
    public string EditedAnswer(UserQuestion question, string answer)
    {
        if (ArithmeticTask.ExtractAnswer(answer) == question.Expected) return Replace(answer);
        var (worked, result) = WorkedInTaste(question);
        return $"{worked}Answer: {result.ToString(CultureInfo.InvariantCulture)}";
    }

    (string Worked, int Result) WorkedInTaste(UserQuestion question)
    {
        var parts = question.Text["What is ".Length..].TrimEnd('?').Split(' ');
        var (steps, result) = ArithmeticTask.Worked(int.Parse(parts[0], CultureInfo.InvariantCulture), parts[1][0], int.Parse(parts[2], CultureInfo.InvariantCulture));
        return (Replace(steps), result);
    }

    string Replace(string text) => Preferences.DislikedPhrase switch
    {
        "carry" => text.Replace("carry", "keep", StringComparison.Ordinal),
        "borrow" => text.Replace("borrow", "take", StringComparison.Ordinal),
        _ => text,
    };
}
