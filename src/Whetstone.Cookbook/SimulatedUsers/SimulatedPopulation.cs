namespace Whetstone.Cookbook.SimulatedUsers;

/// <summary>A seeded population of simulated users with varied hidden preferences and feedback
/// habits; <see cref="Drift"/> shifts everyone's preferences at once (the mid-run drift).</summary>
public sealed class SimulatedPopulation
{
    static readonly string[] Topics = ["addition", "subtraction"];
    static readonly string[] Disliked = ["carry", "borrow"];

    public IReadOnlyList<SimulatedUser> Users { get; private set; }
    public bool Drifted { get; private set; }

    /// <summary>The same draws for every taste (so <see cref="LengthTaste.OneLine"/> gives the users of
    /// sessions 1–6 exactly); the taste sets what concise means and how many users are concise.</summary>
    public SimulatedPopulation(int size, int seed, LengthTaste taste = LengthTaste.SignOff)
    {
        var random = new Random(seed);
        double concise = UserPreferences.ConciseShare(taste);
        Users = Enumerable.Range(0, size).Select(i => new SimulatedUser($"sim-{seed}-{i}",
            new UserPreferences(Concise: random.NextDouble() < concise, RequiresAnswerLine: random.NextDouble() < 0.6,
                Topics[random.Next(Topics.Length)], Disliked[random.Next(Disliked.Length)], taste),
            new FeedbackHabits(Thumbs: 0.5 + 0.5 * random.NextDouble(), Rating: 0.3 * random.NextDouble(), Correction: 0.1 + 0.3 * random.NextDouble(),
                Preference: 0.2 * random.NextDouble(), Noise: 0.05 + 0.15 * random.NextDouble()))).ToArray();
    }

    public void Drift()
    {
        Users = Users.Select(u => u with { Preferences = u.Preferences.Drifted() }).ToArray();
        Drifted = true;
    }
}
