namespace Whetstone.Cookbook.LongMemory;

/// <summary>Values for the reader's copy curriculum (<see cref="ReaderCopyCurriculum"/>): names,
/// cities, jobs and foods drawn from a pool far larger than the benchmark's lists, so that a reader
/// can only get them right by copying them from its context. Three in four are pronounceable made-up
/// words (2–3 syllables: effectively never the same twice, and split into several BPE tokens, so the
/// reader must copy a token sequence, not recall one); one in four is a real word from a few dozen,
/// which include the benchmark's own values, so these appear too, each as likely as any other.</summary>
public static class CopyValues
{
    static readonly string[] Onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kl", "pr", "st", "tr", "sh", "ch", "th"];
    static readonly string[] Vowels = ["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ou", "ie"];
    static readonly string[] Codas = ["", "", "", "n", "r", "l", "s", "m", "k", "nd", "st"];

    static readonly string[] RealNames = ["Alma", "Bruno", "Chiara", "Dmitri", "Esra", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Rex", "Miso", "Pepper", "Juno", "Biscuit", "Nemo", "Olive", "Tango",
        "Amara", "Boris", "Celia", "Dario", "Elif", "Femi", "Gunnar", "Hana", "Ivo", "Kenji", "Leila", "Marek", "Nadia", "Otto", "Priya", "Rosa", "Sami", "Tomas", "Vera", "Yusuf", "Zora"];
    static readonly string[] RealCities = ["Lisbon", "Oslo", "Quito", "Nairobi", "Hanoi", "Tbilisi", "Perth", "Bergen", "Porto", "Lima",
        "Accra", "Bogota", "Cusco", "Dakar", "Essen", "Gdansk", "Havana", "Izmir", "Kyoto", "Lagos", "Malmo", "Naples", "Riga", "Seville", "Tunis", "Utrecht", "Valencia", "Warsaw", "Zagreb", "Turin"];
    static readonly string[] RealJobs = ["nurse", "carpenter", "pilot", "chemist", "teacher", "baker", "architect", "librarian",
        "plumber", "dentist", "farmer", "welder", "lawyer", "painter", "surgeon", "editor", "tailor", "chef", "geologist", "florist", "translator", "electrician", "jeweller", "miner"];
    static readonly string[] RealFoods = ["ramen", "paella", "falafel", "pierogi", "tacos", "risotto", "dumplings", "curry",
        "lasagne", "sushi", "goulash", "hummus", "borscht", "couscous", "gnocchi", "kimchi", "pho", "burritos", "moussaka", "pancakes", "biryani", "ceviche", "polenta", "baklava"];

    /// <summary>A made-up word of 2–3 syllables, lower case ("trelvan", "doumik").</summary>
    public static string Word(Random random)
    {
        int syllables = random.Next(2, 4);
        var parts = new List<string>();
        for (int i = 0; i < syllables; i++)
            parts.Add(Onsets[random.Next(Onsets.Length)] + Vowels[random.Next(Vowels.Length)] + (i == syllables - 1 ? Codas[random.Next(Codas.Length)] : ""));
        return string.Concat(parts);
    }

    /// <summary>A proper name (a person, a pet, a city): capitalised, one word.</summary>
    public static string Name(Random random, bool city) =>
        random.NextDouble() < 0.25 ? Pick(random, city ? RealCities : RealNames) : Capitalise(Word(random));

    /// <summary>A lower-case noun (a job, a food): one word.</summary>
    public static string Noun(Random random, bool food) =>
        random.NextDouble() < 0.25 ? Pick(random, food ? RealFoods : RealJobs) : Word(random);

    /// <summary>Draws until <paramref name="draw"/> gives a value not in <paramref name="used"/>, and records it:
    /// no two facts of one context share a value, so every answer has one source line.</summary>
    public static string Fresh(Func<string> draw, HashSet<string> used)
    {
        while (true)
        {
            string value = draw();
            if (used.Add(value)) return value;
        }
    }

    static string Pick(Random random, string[] items) => items[random.Next(items.Length)];

    static string Capitalise(string word) => char.ToUpperInvariant(word[0]) + word[1..];
}
