using Whetstone.Cookbook.SimulatedUsers;

namespace Whetstone.Cookbook.Tests;

/// <summary>The default taste since the seventh session (<see cref="LengthTaste.SignOff"/>): detailed
/// users want "So this is right." after the Answer line, concise users want the answer to end on it;
/// corrections keep whet-nano's words; 30% of users are concise until the drift. Also the refuted
/// no-preamble taste, and that the one-line taste draws the users of sessions 1–6 exactly.</summary>
public class SignOffTasteTests
{
    static readonly FeedbackHabits Habits = new(1, 0, 0, 0, 0);
    static readonly UserQuestion Sum = new("What is 57 + 68?", "125");
    const string Work = "Add digit by digit from the right.\n7 + 8 = 15, write 5 carry 1.\n5 + 6 + 1 = 12, write 2 carry 1.\n0 + 0 + 1 = 1, write 1.\nAnswer: 125";

    static SimulatedUser User(bool concise, string disliked = "borrow", LengthTaste taste = LengthTaste.SignOff) =>
        new("u", new UserPreferences(concise, RequiresAnswerLine: true, "addition", disliked, taste), Habits);

    [Fact]
    public void TheLengthTermIsTheClosingLine()
    {
        var detailed = User(concise: false);
        var concise = User(concise: true);
        // 0.4 right + 0.2 "Answer:" line + 0.15 no "borrow" = 0.75; the closing line adds the 0.25 length term for detailed users only.
        Assert.Equal(0.75, detailed.Satisfaction(Sum, Work), 12);
        Assert.Equal(1.0, detailed.Satisfaction(Sum, Work + "\nSo this is right."), 12);
        Assert.Equal(1.0, concise.Satisfaction(Sum, Work), 12);
        Assert.Equal(0.75, concise.Satisfaction(Sum, Work + "\nSo this is right."), 12);
        // A closing line before the last "Answer:" line, or cut off before its end, is none.
        Assert.Equal(0.75, detailed.Satisfaction(Sum, "So this is right.\nAnswer: 125"), 12);
        Assert.Equal(0.75, detailed.Satisfaction(Sum, Work + "\nSo this"), 12);
        // Cut off before "Answer:": 0.15 for no "borrow" + 0.25 for a concise user (it has no closing line), 0.15 for a detailed one.
        Assert.Equal(0.4, concise.Satisfaction(Sum, Work[..60]), 12);
        Assert.Equal(0.15, detailed.Satisfaction(Sum, Work[..60]), 12);
    }

    [Fact]
    public void IdealAnswersAreWhetNanosOwnStepsAndKeepItsWords()
    {
        // A user who dislikes "carry" still gets "carry" in their correction: replacing it broke whet-nano's sums.
        Assert.Equal(Work + "\nSo this is right.", User(concise: false, disliked: "carry").IdealAnswer(Sum));
        Assert.Equal(Work, User(concise: true, disliked: "carry").IdealAnswer(Sum));
        Assert.Equal(0.85, User(concise: false, disliked: "carry").Satisfaction(Sum, User(concise: false, disliked: "carry").IdealAnswer(Sum)), 12);
        Assert.Equal("Subtract digit by digit from the right.\n12 - 7 = 5, borrow 1.\n4 - 3 = 1.\nAnswer: 15\nSo this is right.",
            User(concise: false).IdealAnswer(new UserQuestion("What is 52 - 37?", "15")));
    }

    [Fact]
    public void PostEditsAddOrRemoveOnlyTheClosingLine()
    {
        var detailed = User(concise: false, disliked: "carry");
        var concise = User(concise: true, disliked: "carry");
        Assert.Equal(Work + "\nSo this is right.", detailed.EditedAnswer(Sum, Work));
        Assert.Equal(Work + "\nSo this is right.", detailed.EditedAnswer(Sum, Work + "\nSo this"));   // a cut-off closing line completed
        Assert.Equal(Work, concise.EditedAnswer(Sum, Work + "\nSo this is right."));
        Assert.Equal(Work, concise.EditedAnswer(Sum, Work));
        // Wrong or cut off: the ideal answer.
        Assert.Equal(Work + "\nSo this is right.", detailed.EditedAnswer(Sum, "Add digit by digit from the right.\n7 + 8 = 15, write 5 carry 1.\n4 + 6 + 1 = 11"));
        Assert.Equal(Work, concise.EditedAnswer(Sum, Work.Replace("125", "115", StringComparison.Ordinal)));
    }

    [Fact]
    public void ThePopulationStartsMostlyDetailedAndTheDriftFlipsEveryUser()
    {
        // Drawn here independently, in the population's order of draws: concise, "Answer:" line, topic, disliked word, five habits.
        var random = new Random(1);
        var expected = new List<bool>();
        for (int i = 0; i < 40; i++)
        {
            expected.Add(random.NextDouble() < 0.3);
            random.NextDouble(); random.Next(2); random.Next(2);
            for (int h = 0; h < 5; h++) random.NextDouble();
        }
        var population = new SimulatedPopulation(40, seed: 1);
        Assert.Equal(expected, population.Users.Select(u => u.Preferences.Concise));
        Assert.All(population.Users, u => Assert.Equal(LengthTaste.SignOff, u.Preferences.Taste));
        int before = expected.Count(c => c);
        Assert.InRange(before, 6, 18);   // 30% of 40 = 12
        population.Drift();
        Assert.Equal(40 - before, population.Users.Count(u => u.Preferences.Concise));
        Assert.All(population.Users, u => Assert.Equal(LengthTaste.SignOff, u.Preferences.Taste));
    }

    [Fact]
    public void TheOneLineFlagDrawsTheUsersOfSessionsOneToSix()
    {
        // Sessions 1–6 drew Concise = NextDouble() < 0.7 with the same sequence of draws.
        var random = new Random(7);
        var old = new SimulatedPopulation(12, seed: 7, LengthTaste.OneLine);
        foreach (var user in old.Users)
        {
            Assert.Equal(random.NextDouble() < 0.7, user.Preferences.Concise);
            Assert.Equal(random.NextDouble() < 0.6, user.Preferences.RequiresAnswerLine);
            Assert.Equal(new[] { "addition", "subtraction" }[random.Next(2)], user.Preferences.Topic);
            Assert.Equal(new[] { "carry", "borrow" }[random.Next(2)], user.Preferences.DislikedPhrase);
            Assert.Equal(0.5 + 0.5 * random.NextDouble(), user.Habits.Thumbs, 15);
            for (int h = 0; h < 4; h++) random.NextDouble();
            Assert.Equal(LengthTaste.OneLine, user.Preferences.Taste);
        }
        // The one-line length term: concise at most two lines.
        var concise = old.Users.First(u => u.Preferences.Concise);
        Assert.True(concise.Preferences.LikesLength("7 + 8 = 15, write 5 carry 1. 5 + 6 + 1 = 12, write 2 carry 1.\nAnswer: 125"));
        Assert.False(concise.Preferences.LikesLength(Work));
    }

    [Fact]
    public void TheNoPreambleTasteWantsTheMethodSentenceOnlyForDetailedUsers()
    {
        var concise = User(concise: true, taste: LengthTaste.NoPreamble);
        var detailed = User(concise: false, taste: LengthTaste.NoPreamble);
        string steps = Work["Add digit by digit from the right.\n".Length..];
        Assert.Equal(0.75, concise.Satisfaction(Sum, Work), 12);
        Assert.Equal(1.0, concise.Satisfaction(Sum, steps), 12);
        Assert.Equal(1.0, detailed.Satisfaction(Sum, Work), 12);
        Assert.Equal(0.75, detailed.Satisfaction(Sum, steps), 12);
        Assert.Equal(steps, concise.IdealAnswer(Sum));   // "borrow" disliked: nothing to replace in a sum
        Assert.Equal(steps, concise.EditedAnswer(Sum, Work));
        Assert.Equal(Work, detailed.EditedAnswer(Sum, steps));
    }
}
