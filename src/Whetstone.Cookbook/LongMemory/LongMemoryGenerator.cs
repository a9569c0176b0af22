namespace Whetstone.Cookbook.LongMemory;

/// <summary>Generates the long-memory benchmark: a persona whose facts (names, places,
/// preferences) are said early, dated events spread over sessions, knowledge updates (a fact
/// said again later with a new value), and distractor small talk that fills the history to the
/// requested length (1k … 1M tokens); then questions of the five kinds. Deterministic per seed:
/// the same seed and length give the same conversation and questions.</summary>
public static class LongMemoryGenerator
{
    static readonly string[] Cities = ["Lisbon", "Oslo", "Quito", "Nairobi", "Hanoi", "Tbilisi", "Perth", "Bergen", "Porto", "Lima"];
    static readonly string[] Pets = ["Rex", "Miso", "Pepper", "Juno", "Biscuit", "Nemo", "Olive", "Tango"];
    static readonly string[] Foods = ["ramen", "paella", "falafel", "pierogi", "tacos", "risotto", "dumplings", "curry"];
    static readonly string[] Names = ["Alma", "Bruno", "Chiara", "Dmitri", "Esra", "Farid", "Greta", "Hugo", "Ines", "Jonas"];
    static readonly string[] Jobs = ["nurse", "carpenter", "pilot", "chemist", "teacher", "baker", "architect", "librarian"];
    internal static readonly string[] Activities = ["ran a half marathon", "visited the museum", "adopted a plant", "fixed the bike", "learned to knit", "went to a concert"];
    internal static readonly string[] SmallTalk =
    [
        "The weather was grey again, nothing special happened.",
        "I watched some videos and had a cup of tea.",
        "Traffic was slow this morning, as usual.",
        "We chatted about the news for a bit, nothing important.",
        "I tidied the kitchen and listened to the radio.",
        "It rained a little in the afternoon, then cleared up.",
    ];
    /// <summary>Whether a line holds one of the distractor small-talk sentences (what a memory should let fade).</summary>
    public static bool IsSmallTalk(string text) => SmallTalk.Any(t => text.Contains(t, StringComparison.Ordinal));

    internal static readonly string[] NeverSaid = ["What car do I drive?", "What is my blood type?", "What is my favourite band?"];

    /// <param name="countTokens">Tokens of a text under the reader's tokenizer (the length target is in its tokens).</param>
    public static LongMemoryConversation Generate(int seed, int historyTokens, Func<string, int> countTokens)
    {
        var random = new Random(seed);
        T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
        string city = Pick(Cities), pet = Pick(Pets), food = Pick(Foods), job = Pick(Jobs), sister = Pick(Names), sisterCity = Pick(Cities);
        string newCity = Cities.Where(c => c != city).ElementAt(random.Next(Cities.Length - 1));
        string newFood = Foods.Where(f => f != food).ElementAt(random.Next(Foods.Length - 1));
        var first = Activities.OrderBy(_ => random.Next()).Take(2).ToArray();

        // Where each scripted turn goes: facts early, events and updates spread over the history.
        var scripted = new SortedDictionary<double, (string Text, string[] Keys)>
        {
            [0.00] = ($"Hi, I am a {job} and I live in {city}.", ["user.job", "user.city"]),
            [0.05] = ($"My dog is called {pet}.", ["user.pet"]),
            [0.10] = ($"My favourite food is {food}.", ["user.food"]),
            [0.15] = ($"My sister is {sister}.", ["user.sister"]),
            [0.20] = ($"{sister} lives in {sisterCity}.", ["sister.city"]),
            [0.30] = ($"Today I {first[0]}.", []),
            [0.60] = ($"Today I {first[1]}.", []),
            [0.70] = ($"Big news: I moved, I live in {newCity} now.", ["user.city"]),
            [0.80] = ($"These days my favourite food is {newFood}.", ["user.food"]),
        };
        var turns = new List<ConversationTurn>();
        var eventDates = new Dictionary<string, DateOnly>();
        var date = new DateOnly(2025, 1, 6).AddDays(random.Next(200));
        int tokens = 0, session = 0;
        int turnIndex = 0;
        var pending = new Queue<KeyValuePair<double, (string Text, string[] Keys)>>(scripted);
        while (tokens < historyTokens || pending.Count > 0)
        {
            double progress = historyTokens == 0 ? 1 : tokens / (double)historyTokens;
            string text;
            string[] keys;
            if (pending.Count > 0 && pending.Peek().Key <= progress)
            {
                (text, keys) = pending.Dequeue().Value;
            }
            else (text, keys) = (Pick(SmallTalk), []);
            if (turnIndex % 6 == 0)
            {
                session++;
                date = date.AddDays(1 + random.Next(9));
            }
            // The event's date is the turn's own (after a new session moved the date on, not before).
            foreach (var a in first) if (text == $"Today I {a}.") eventDates[a] = date;
            turns.Add(new ConversationTurn(session, date, $"[{date:yyyy-MM-dd}] {text}", keys));
            tokens += countTokens(turns[^1].User);
            turnIndex++;
        }

        var questions = new List<MemoryQuestion>
        {
            new(QuestionKind.SingleHop, "What is my dog called?", pet, [pet]),
            new(QuestionKind.SingleHop, "What is my job?", job, [job]),
            new(QuestionKind.MultiHop, "In which city does my sister live?", sisterCity, [sister, sisterCity]),
            new(QuestionKind.Temporal, $"Which came first: I {first[0]}, or I {first[1]}?", first[0], [first[0], first[1]]),
            new(QuestionKind.Temporal, $"On which date did I {first[1]}?", $"{eventDates[first[1]]:yyyy-MM-dd}", [$"{eventDates[first[1]]:yyyy-MM-dd}] Today I {first[1]}"]),
            new(QuestionKind.KnowledgeUpdate, "In which city do I live now?", newCity, [newCity]) { StaleAnswer = city },
            new(QuestionKind.KnowledgeUpdate, "What is my favourite food now?", newFood, [newFood]) { StaleAnswer = food },
            new(QuestionKind.Abstention, Pick(NeverSaid), MemoryQuestion.Unknown, []),
        };
        return new LongMemoryConversation(seed, turns, questions);
    }
}
