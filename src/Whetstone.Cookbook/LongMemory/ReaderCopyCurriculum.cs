namespace Whetstone.Cookbook.LongMemory;

/// <summary>SFT examples where the answer can only be copied from the context: histories in the
/// benchmark's own line format ("[2025-03-14] My dog is called Trelvan.") whose names, cities, jobs
/// and foods come from <see cref="CopyValues"/> (mostly made-up words), asked the benchmark's own
/// eight questions. The second model reader answered every name with its prior's favourite ("Juno",
/// "Lisbon", "chemist"; docs/results/memory-diffusion.md section 10): the generator's small lists let
/// the prior be right often enough that copying never paid. Here the prior is right about never.
/// <list type="bullet">
/// <item>the facts sit at random places, not the benchmark's fixed ones, so position gives nothing away;</item>
/// <item>knowledge updates: the city and the food change 0–2 times ("Big news: I moved, …"), the last value wins;</item>
/// <item>distractors of the same type bound to someone else ("My neighbour's cat is called Zorvan.",
/// "My cousin works as a tailor."), so the reader must bind the value to its cue;</item>
/// <item>a fact is left out about one time in fourteen (its question is then "unknown"), and the never-said question is asked;</item>
/// <item>small talk fills the history up to a length drawn from [minTokens, maxTokens] (the facts alone
/// are ~180–300 whet-nano tokens, so short targets give histories of facts with little small talk).</item>
/// </list>
/// The labels are the generator's truth; <see cref="PatternReader"/> reads the same answers from the
/// context (the unit test checks it), so they mean what the reader data's labels mean. Deterministic by seed.</summary>
public static class ReaderCopyCurriculum
{
    // The benchmark generator's activities, small talk and never-said questions, then more of each, in
    // that order, so the curriculum's lines are the benchmark's where they overlap.
    static readonly string[] Activities = [.. LongMemoryGenerator.Activities, "painted the fence", "baked bread", "climbed a hill", "sold the old car", "planted tomatoes", "repaired the roof"];
    static readonly string[] Filler = [.. LongMemoryGenerator.SmallTalk, "Work was busy, lots of emails.", "I slept badly and drank too much coffee."];
    static readonly string[] NeverSaid = LongMemoryGenerator.NeverSaid;

    /// <summary>One example: chat messages (the context and first question, then one question per user
    /// turn, each answered), the conversation's questions with their true answers, and the context's length.</summary>
    public sealed record Example(IReadOnlyList<(string Role, string Content)> Messages, IReadOnlyList<MemoryQuestion> Questions, string Context, int ContextTokens);

    /// <param name="factChains">The easy level: keep only this many of the fact chains (a fact, or a fact
    /// and its updates; distractors count as chains) and ask only what that short context answers, plus
    /// the never-said question one time in four. Null: every fact (each left out one time in fourteen).</param>
    public static IEnumerable<Example> Generate(int count, int minTokens, int maxTokens, int firstSeed, Func<string, int> countTokens, int? factChains = null)
    {
        for (int i = 0; i < count; i++) yield return One(firstSeed + i, minTokens, maxTokens, countTokens, factChains);
    }

    /// <summary>The example of one seed.</summary>
    public static Example One(int seed, int minTokens, int maxTokens, Func<string, int> countTokens, int? factChains = null)
    {
        var random = new Random(seed * 7_919 + 17);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string Name(bool city) => CopyValues.Fresh(() => CopyValues.Name(random, city), used);
        string Noun(bool food) => CopyValues.Fresh(() => CopyValues.Noun(random, food), used);
        bool Said() => random.NextDouble() >= 0.07;

        string job = Noun(false), pet = Name(false), sister = Name(false), sisterCity = Name(true);
        var cities = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Name(true)).ToList();
        var foods = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Noun(true)).ToList();
        var events = Activities.OrderBy(_ => random.Next()).Take(2).ToArray();

        // Facts in a random order, except that an update follows what it updates (one chain) and the
        // sister's city follows her name: each chain keeps its order, the chains are interleaved at random.
        var cityUpdates = cities.Skip(1).Select(c => $"Big news: I moved, I live in {c} now.");
        var foodUpdates = foods.Skip(1).Select(f => $"These days my favourite food is {f}.");
        var facts = new List<List<string>>();
        bool jobSaid = Said(), citySaid = Said(), foodSaid = Said(), sisterSaid = Said(), petSaid = Said();
        if (random.NextDouble() < 0.5 && jobSaid && citySaid) facts.Add([$"Hi, I am {A(job)} and I live in {cities[0]}.", .. cityUpdates]);
        else
        {
            if (jobSaid) facts.Add([$"I am {A(job)}."]);
            facts.Add(citySaid ? [$"I live in {cities[0]}.", .. cityUpdates] : [.. cityUpdates]);
        }
        if (petSaid) facts.Add([$"My dog is called {pet}."]);
        facts.Add(sisterSaid ? [$"My sister is {sister}.", $"{sister} lives in {sisterCity}."] : [$"{sister} lives in {sisterCity}."]);
        facts.Add(foodSaid ? [$"My favourite food is {foods[0]}.", .. foodUpdates] : [.. foodUpdates]);
        facts.Add([$"Today I {events[0]}.", $"Today I {events[1]}."]);
        foreach (var _ in Enumerable.Range(0, 1 + random.Next(3))) facts.Add([Distractor(random, used)]);
        if (factChains is int k) facts = facts.Where(c => c.Count > 0).OrderBy(_ => random.Next()).Take(k).ToList();

        // Interleave the chains: each keeps its order, the chains are mixed at random.
        var chains = facts.Where(c => c.Count > 0).Select(c => new Queue<string>(c)).ToList();
        var script = new List<string>();
        while (chains.Count > 0)
        {
            var chain = chains[random.Next(chains.Count)];
            script.Add(chain.Dequeue());
            if (chain.Count == 0) chains.Remove(chain);
        }

        // Small talk between the facts until the history reaches its length; a new date every few lines.
        int target = random.Next(minTokens, maxTokens + 1);
        // Lengths counted with a date tag on every line, as the context will have them.
        int Tokens(string text) => countTokens($"[2025-01-01] {text}\n");
        var fillerSlots = Enumerable.Range(0, script.Count + 1).Select(_ => new List<string>()).ToArray();
        for (int tokens = script.Sum(Tokens); ;)
        {
            string talk = Filler[random.Next(Filler.Length)];
            if (tokens + Tokens(talk) > target) break;
            fillerSlots[random.Next(fillerSlots.Length)].Add(talk);
            tokens += Tokens(talk);
        }
        var lines = new List<string>();
        var date = new DateOnly(2025, 1, 6).AddDays(random.Next(200));
        var eventDates = new Dictionary<string, DateOnly>();
        for (int s = 0; s <= script.Count; s++)
        {
            foreach (var talk in fillerSlots[s]) AddLine(talk);
            if (s < script.Count) AddLine(script[s]);
        }
        void AddLine(string text)
        {
            if (lines.Count % 4 == 0) date = date.AddDays(1 + random.Next(9));
            foreach (var e in events) if (text == $"Today I {e}.") eventDates[e] = date;
            lines.Add($"[{date:yyyy-MM-dd}] {text}");
        }
        string context = string.Join("\n", lines);

        string Unknown = MemoryQuestion.Unknown;
        // The values the context states, in order: the stale answer is the one before the last.
        var statedCities = citySaid ? cities : cities.Skip(1).ToList();
        var statedFoods = foodSaid ? foods : foods.Skip(1).ToList();
        var questions = new List<MemoryQuestion>
        {
            new(QuestionKind.SingleHop, "What is my dog called?", petSaid ? pet : Unknown, [pet]),
            new(QuestionKind.SingleHop, "What is my job?", jobSaid ? job : Unknown, [job]),
            new(QuestionKind.MultiHop, "In which city does my sister live?", sisterSaid ? sisterCity : Unknown, [sister, sisterCity]),
            new(QuestionKind.Temporal, $"Which came first: I {events[0]}, or I {events[1]}?", events[0], [events[0], events[1]]),
            new(QuestionKind.Temporal, $"On which date did I {events[1]}?", eventDates.TryGetValue(events[1], out var when) ? $"{when:yyyy-MM-dd}" : Unknown, [events[1]]),
            new(QuestionKind.KnowledgeUpdate, "In which city do I live now?", statedCities.Count > 0 ? cities[^1] : Unknown, [cities[^1]]) { StaleAnswer = statedCities.Count > 1 ? statedCities[^2] : null },
            new(QuestionKind.KnowledgeUpdate, "What is my favourite food now?", statedFoods.Count > 0 ? foods[^1] : Unknown, [foods[^1]]) { StaleAnswer = statedFoods.Count > 1 ? statedFoods[^2] : null },
            new(QuestionKind.Abstention, NeverSaid[random.Next(NeverSaid.Length)], Unknown, []),
        };
        if (factChains is not null)
        {
            // A short context states only some facts: the answers are what it states (the pattern
            // reader's reading, which agrees with the truth on whole contexts), and what it does not
            // state is not asked, so the easy level is all copying; the never-said question is asked
            // one time in four, which keeps "unknown" near the benchmark's one label in eight.
            const double abstainShare = 0.25;
            questions = questions.Select(q => q with { Answer = PatternReader.Answer(q.Question, context, (t, _) => t) })
                .Where(q => q.Answer != Unknown || (q.Kind == QuestionKind.Abstention && random.NextDouble() < abstainShare)).ToList();
            if (questions.Count == 0) questions.Add(new(QuestionKind.Abstention, NeverSaid[random.Next(NeverSaid.Length)], Unknown, []));   // only distractors kept
        }
        var asked = questions.OrderBy(_ => random.Next()).ToList();
        var messages = new List<(string, string)>();
        foreach (var q in asked)
        {
            messages.Add(("user", messages.Count == 0 ? ReaderPrompt.First(context, q.Question) : ReaderPrompt.Question(q.Question)));
            messages.Add(("assistant", q.Answer));
        }
        return new Example(messages, questions, context, countTokens(context));
    }

    /// <summary>A line that names a value of the same type as an answer, bound to someone else.
    /// None of its phrasings is one a question's statement uses ("dog", "my sister", "I live", "favourite food", "I am").</summary>
    static string Distractor(Random random, HashSet<string> used)
    {
        string Name(bool city) => CopyValues.Fresh(() => CopyValues.Name(random, city), used);
        string Noun(bool food) => CopyValues.Fresh(() => CopyValues.Noun(random, food), used);
        return random.Next(5) switch
        {
            0 => $"My neighbour's cat is called {Name(false)}.",
            1 => $"My cousin works as {A(Noun(false))}.",
            2 => $"My friend {Name(false)} cooked {Noun(true)} for us.",
            3 => $"A colleague flew to {Name(true)} for a conference.",
            _ => $"I had coffee with {Name(false)} after work.",
        };
    }

    static string A(string noun) => ("aeiou".Contains(noun[0]) ? "an " : "a ") + noun;

    /// <summary>One chat JSONL line ({"messages": [{"role", "content"}, …]}), the reader data's format.</summary>
    public static string ToJsonl(Example example) => ReaderTrainingData.ChatJsonl(example.Messages);
}
