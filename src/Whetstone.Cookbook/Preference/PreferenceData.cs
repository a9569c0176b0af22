using System.Text.RegularExpressions;
using Whetstone.Cookbook.Corpus;

namespace Whetstone.Cookbook.Preference;

/// <summary>Preference data made from the corpus: each example's correct answer against a
/// corrupted copy with a plausible mistake — arithmetic worked out right but with one wrong
/// digit in the final answer, instructions answered with a list out of order, a count off by
/// one or the wrong field. Train and held-out come from the corpus's own split (by question
/// hash), so no held-out question is ever trained on.</summary>
public static partial class PreferenceData
{
    /// <summary>The tasks with a verifiable answer that pairs are made from.</summary>
    public static readonly string[] Tasks = [ArithmeticTask.Name, InstructionTask.Name];

    public static IEnumerable<PreferencePair> Pairs(long seed, bool heldOut, IReadOnlyCollection<string>? tasks = null)
    {
        var corrupting = new Random(unchecked((int)seed * 31 + (heldOut ? 1 : 0)));
        foreach (var example in CorpusGenerator.Generate(seed, heldOut, tasks ?? Tasks))
        {
            var chosen = example.Messages[^1].Content;
            var rejected = Corrupt(example, corrupting);
            if (rejected is null || rejected == chosen) continue;
            yield return new PreferencePair(example.Task, example.Prompt, chosen, rejected, example.Answer);
        }
    }

    /// <summary>Thumbs up/down data: each example answered right (up) or corrupted (down), at random.</summary>
    public static IEnumerable<RatedResponse> Ratings(long seed, bool heldOut, IReadOnlyCollection<string>? tasks = null)
    {
        var coin = new Random(unchecked((int)seed * 17 + 5));
        foreach (var pair in Pairs(seed, heldOut, tasks))
            yield return coin.Next(2) == 0
                ? new RatedResponse(pair.Task, pair.Prompt, pair.Chosen, ThumbsUp: true)
                : new RatedResponse(pair.Task, pair.Prompt, pair.Rejected, ThumbsUp: false);
    }

    /// <summary>The example's answer with a plausible mistake, or null where none can be made.</summary>
    public static string? Corrupt(ChatExample example, Random random)
    {
        var reply = example.Messages[^1].Content;
        int at = reply.LastIndexOf("Answer: ", StringComparison.Ordinal);
        if (at < 0) return null;
        var head = reply[..(at + "Answer: ".Length)];
        var wrong = example.Task switch
        {
            ArithmeticTask.Name or ArithmeticTask.MultiplicationName => WrongNumber(example.Answer, random),
            _ => WrongInstructionAnswer(example, random),
        };
        return wrong is null ? null : head + wrong;
    }

    // One digit changed: the kind of slip a model makes in a carry, not an absurd answer.
    static string? WrongNumber(string answer, Random random)
    {
        if (!int.TryParse(answer, out int value)) return null;
        int digits = Math.Max(1, answer.TrimStart('-').Length);
        int place = (int)Math.Pow(10, random.Next(digits));
        int wrong = value + (random.Next(2) == 0 ? place : -place);
        if (wrong < 0) wrong = value + place;
        return wrong.ToString();
    }

    static string? WrongInstructionAnswer(ChatExample example, Random random)
    {
        var answer = example.Answer;
        if (int.TryParse(answer, out int count)) return (count == 0 || random.Next(2) == 0 ? count + 1 : count - 1).ToString();
        string separator = answer.Contains(", ") ? ", " : answer.Contains(' ') ? " " : "";
        if (separator.Length > 0)
        {
            var items = answer.Split(separator);
            for (int attempt = 0; attempt < 10; attempt++)
            {
                int i = random.Next(items.Length - 1);
                if (items[i] == items[i + 1]) continue;
                (items[i], items[i + 1]) = (items[i + 1], items[i]);
                return string.Join(separator, items);
            }
            return null;
        }
        // A record question: answer with another field's value.
        var others = RecordValue().Matches(example.Messages[0].Content).Select(m => m.Groups[1].Value).Where(v => v != answer).ToArray();
        return others.Length == 0 ? null : others[random.Next(others.Length)];
    }

    [GeneratedRegex(@"\w+: (\w+)")]
    private static partial Regex RecordValue();
}
