using System.Globalization;
using Whetstone.Cookbook.Corpus;

namespace Whetstone.Cookbook.SimulatedUsers;

/// <summary>What a simulated user wants, hidden from the server: concise or worked answers (what
/// that means is <see cref="Taste"/>), a required format ("Answer: N"), the question kind they ask
/// about, a phrasing they dislike.</summary>
public sealed record UserPreferences(bool Concise, bool RequiresAnswerLine, string Topic, string DislikedPhrase, LengthTaste Taste = LengthTaste.SignOff)
{
    /// <summary>What a user who states their taste writes in the system prompt (as real users put
    /// "be brief" or "avoid jargon" in theirs): the length they like and the word they dislike. The
    /// "Answer:" line and their topic stay unstated.</summary>
    public string Statement() => (Taste, Concise) switch
    {
        (LengthTaste.OneLine, true) => "Be concise: all work on one line.",
        (LengthTaste.OneLine, false) => "Show each step on its own line.",
        (LengthTaste.NoPreamble, true) => "Be concise: skip the opening sentence, just the steps.",
        (LengthTaste.NoPreamble, false) => "Start by saying how you will work it out.",
        (_, true) => "Be concise: end on the Answer line, no closing words.",
        _ => "After the Answer line, close with: So this is right.",
    } + $" Do not use the word \"{DislikedPhrase}\".";

    /// <summary>Whether an answer has the length this user likes. Sign-off taste: detailed when it
    /// closes with the sign-off line (<see cref="SignsOff"/>), concise when it does not. One-line taste: concise
    /// at most 2 lines, detailed at least 3. No-preamble taste: concise when it does not open with the
    /// method sentence (<see cref="OpensWithMethod"/>), detailed when it does.</summary>
    public bool LikesLength(string answer) => Taste switch
    {
        LengthTaste.OneLine => Concise == answer.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 2,
        LengthTaste.NoPreamble => Concise != OpensWithMethod(answer),
        _ => Concise != SignsOff(answer),
    };

    /// <summary>The closing line detailed users of the sign-off taste want after the "Answer:" line.</summary>
    public const string SignOffLine = "So this is right.";

    /// <summary>The answer has the closing line, whole, on a line after its last "Answer:".</summary>
    public static bool SignsOff(string answer)
    {
        int at = answer.LastIndexOf("Answer:", StringComparison.Ordinal);
        return at >= 0 && answer.IndexOf("\n" + SignOffLine, at, StringComparison.Ordinal) >= 0;
    }

    /// <summary>The share of concise users drawn before the drift: 70% (one-line and no-preamble
    /// tastes), 30% (sign-off taste: most users want what whet-nano does not yet write, as in the
    /// one-line population, and the drift turns it to 70%).</summary>
    public static double ConciseShare(LengthTaste taste) => taste == LengthTaste.SignOff ? 0.3 : 0.7;

    /// <summary>The answer's first line states the method rather than doing a step: it has no digit
    /// ("Add digit by digit from the right." — a step or "Answer: 42" always has one).</summary>
    public static bool OpensWithMethod(string answer)
    {
        string first = answer.TrimStart().Split('\n', 2)[0];
        return first.Length > 0 && !first.Any(char.IsDigit);
    }

    /// <summary>After the drift: the opposite taste in length, and another phrase disliked.</summary>
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
    /// "Answer:" line (or 0.2 when none is required), 0.25 for the length they like
    /// (<see cref="UserPreferences.LikesLength"/>), 0.15 for avoiding the phrase they dislike.</summary>
    public double Satisfaction(UserQuestion question, string answer)
    {
        bool right = ArithmeticTask.ExtractAnswer(answer) == question.Expected;
        bool format = !Preferences.RequiresAnswerLine || answer.Contains("Answer:", StringComparison.Ordinal);
        bool length = Preferences.LikesLength(answer);
        bool phrasing = !answer.Contains(Preferences.DislikedPhrase, StringComparison.OrdinalIgnoreCase);
        return 0.4 * (right ? 1 : 0) + 0.2 * (format ? 1 : 0) + 0.25 * (length ? 1 : 0) + 0.15 * (phrasing ? 1 : 0);
    }

    /// <summary>The answer this user would have wanted (their correction): the corpus's worked steps
    /// (whet-nano's own layout when it is right) with the user's taste applied and the disliked word
    /// replaced. No-preamble taste: one step a line, without the method sentence for a concise user,
    /// with it otherwise. One-line taste: on one line for a concise user (two lines with the "Answer:"
    /// line), one step a line otherwise. Either way the disliked word is replaced. Sign-off taste: the
    /// corpus's steps verbatim, the "Answer:" line and, for a detailed user, "So this is right." —
    /// the disliked word is kept, since SFT on answers with "keep"/"take" for "carry"/"borrow" broke
    /// whet-nano's sums (12 of 40 right against 30 for its own words, seventh session). Otherwise the
    /// disliked word is replaced ("carry" → "keep", "borrow"
    /// → "take"). The work stays: a correction reading just "Answer: 68" asked whet-nano for a sum it
    /// cannot do without its steps, and SFT on such corrections broke its arithmetic (0 of 4 suite
    /// sums right, docs/results/experiential-loop.md run 5).</summary>
    public string IdealAnswer(UserQuestion question)
    {
        if (Preferences.Taste == LengthTaste.SignOff)
        {
            var (steps, sum) = Worked(question);
            return InTaste($"{steps}Answer: {sum.ToString(CultureInfo.InvariantCulture)}");
        }
        var (worked, result) = WorkedInTaste(question);
        if (Preferences.Concise && Preferences.Taste == LengthTaste.OneLine)
            worked = string.Join(' ', worked.Split('\n', StringSplitOptions.RemoveEmptyEntries)) + "\n";
        else if (Preferences.Concise) worked = WithoutMethodLine(worked);
        return $"{worked}Answer: {result.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>A right answer in the sign-off taste: its text up to the end of its last "Answer:"
    /// line, then (detailed users) the closing line.</summary>
    string InTaste(string answer)
    {
        int at = answer.LastIndexOf("Answer:", StringComparison.Ordinal);
        int end = answer.IndexOf('\n', at);
        string upToAnswer = end < 0 ? answer : answer[..end];
        return Preferences.Concise ? upToAnswer : $"{upToAnswer}\n{UserPreferences.SignOffLine}";
    }

    /// <summary>The text without its first line when that line states the method.</summary>
    static string WithoutMethodLine(string text) =>
        UserPreferences.OpensWithMethod(text) ? text.TrimStart().Split('\n', 2) is [_, var rest] ? rest : "" : text;

    /// <summary>The correction of a user who post-edits the answer they got instead of rewriting it:
    /// a right answer keeps its words and layout with the disliked word replaced ("carry" → "keep",
    /// "borrow" → "take"); a wrong or unfinished one is replaced by the corpus's worked steps, one a
    /// line, with the disliked word replaced. The layout is never changed, whatever length the user
    /// likes — they say that with thumbs and ratings (post-editors fix what is wrong with the least
    /// typing). Hidden satisfaction is computed as before. No-preamble taste: the method sentence is
    /// also removed (concise) or put back (detailed), since that edit is a line, not a new layout.
    /// Sign-off taste: the closing line is removed or added, and no word is replaced (as in
    /// <see cref="IdealAnswer"/>); a wrong or unfinished answer becomes the ideal one.</summary>
    public string EditedAnswer(UserQuestion question, string answer)
    {
        if (ArithmeticTask.ExtractAnswer(answer) == question.Expected)
        {
            if (Preferences.Taste == LengthTaste.SignOff) return InTaste(answer);
            if (Preferences.Taste == LengthTaste.OneLine) return Replace(answer);
            if (Preferences.Concise) return Replace(WithoutMethodLine(answer));
            return UserPreferences.OpensWithMethod(answer) ? Replace(answer) : Replace(MethodLine(question) + answer.TrimStart());
        }
        if (Preferences.Taste != LengthTaste.OneLine) return IdealAnswer(question);
        var (worked, result) = WorkedInTaste(question);
        return $"{worked}Answer: {result.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>The corpus's method sentence for the question's operation, with its newline.</summary>
    static string MethodLine(UserQuestion question) => Worked(question).Steps.Split('\n', 2)[0] + "\n";

    (string Worked, int Result) WorkedInTaste(UserQuestion question)
    {
        var (steps, result) = Worked(question);
        return (Replace(steps), result);
    }

    static (string Steps, int Result) Worked(UserQuestion question)
    {
        var parts = question.Text["What is ".Length..].TrimEnd('?').Split(' ');
        return ArithmeticTask.Worked(int.Parse(parts[0], CultureInfo.InvariantCulture), parts[1][0], int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    string Replace(string text) => Preferences.DislikedPhrase switch
    {
        "carry" => text.Replace("carry", "keep", StringComparison.Ordinal),
        "borrow" => text.Replace("borrow", "take", StringComparison.Ordinal),
        _ => text,
    };
}
