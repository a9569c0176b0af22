using Whetstone.Cookbook.SimulatedUsers;

namespace Whetstone.Cookbook.Tests;

/// <summary>The simulator's hidden satisfaction: each preference moves it by its own weight, and the
/// drift turns a liked answer into a disliked one. These are the one-line taste of sessions 1–6
/// (<see cref="LengthTaste.OneLine"/>, now behind --taste one-line); the default taste is tested in
/// RestatedTasteTests.</summary>
public class SimulatedUserTests
{
    static readonly UserQuestion Question = new("What is 12 + 30?", "42");
    static readonly FeedbackHabits Habits = new(1, 0, 0, 0, 0);

    [Fact]
    public void EachPreferenceCountsWithItsWeight()
    {
        var concise = new SimulatedUser("u", new UserPreferences(Concise: true, RequiresAnswerLine: true, "addition", "carry", LengthTaste.OneLine), Habits);
        Assert.Equal(1.0, concise.Satisfaction(Question, "Answer: 42"), 12);
        Assert.Equal(0.6, concise.Satisfaction(Question, "Answer: 41"), 12);                       // wrong: −0.4
        Assert.Equal(0.4, concise.Satisfaction(Question, "42"), 12);                               // no "Answer:" line, so also not parsed as right
        Assert.Equal(0.75, concise.Satisfaction(Question, "2 + 0 = 2.\n1 + 3 = 4.\nAnswer: 42"), 12); // too long for a concise user
        Assert.Equal(0.85, concise.Satisfaction(Question, "no carry. Answer: 42"), 12);             // the disliked phrase
    }

    [Fact]
    public void TheDriftFlipsLengthTasteAndTheDislikedPhrase()
    {
        var user = new SimulatedUser("u", new UserPreferences(Concise: true, RequiresAnswerLine: false, "addition", "carry", LengthTaste.OneLine), Habits);
        const string worked = "2 + 0 = 2.\n1 + 3 = 4, no borrow.\nAnswer: 42";
        double before = user.Satisfaction(Question, worked);
        var population = new SimulatedPopulation(3, seed: 5);
        var drifted = user with { Preferences = user.Preferences.Drifted() };
        Assert.Equal(0.75, before, 12);
        Assert.Equal(0.85, drifted.Satisfaction(Question, worked), 12);   // now wants detail, but dislikes "borrow"
        population.Drift();
        Assert.True(population.Drifted);
        Assert.All(population.Users.Zip(new SimulatedPopulation(3, seed: 5).Users), p => Assert.NotEqual(p.First.Preferences.Concise, p.Second.Preferences.Concise));
    }

    [Fact]
    public void ACorrectionKeepsTheWorkInTheUsersTasteAndSatisfiesThemFully()
    {
        var question = new UserQuestion("What is 57 + 68?", "125");
        var concise = new SimulatedUser("c", new UserPreferences(Concise: true, RequiresAnswerLine: true, "addition", "carry", LengthTaste.OneLine), Habits);
        var detailed = new SimulatedUser("d", concise.Preferences with { Concise = false }, Habits);
        Assert.Equal("Add digit by digit from the right. 7 + 8 = 15, write 5 keep 1. 5 + 6 + 1 = 12, write 2 keep 1. 0 + 0 + 1 = 1, write 1.\nAnswer: 125",
            concise.IdealAnswer(question));
        Assert.Equal(1.0, concise.Satisfaction(question, concise.IdealAnswer(question)), 12);
        Assert.Equal(1.0, detailed.Satisfaction(question, detailed.IdealAnswer(question)), 12);
        Assert.Equal(5, detailed.IdealAnswer(question).Split('\n').Length);   // header, three steps, the answer line
        var borrow = new SimulatedUser("b", new UserPreferences(Concise: false, RequiresAnswerLine: false, "subtraction", "borrow", LengthTaste.OneLine), Habits);
        Assert.Equal("Subtract digit by digit from the right.\n12 - 7 = 5, take 1.\n4 - 3 = 1.\nAnswer: 15", borrow.IdealAnswer(new("What is 52 - 37?", "15")));
    }

    [Fact]
    public void ThePopulationIsSeededAndAskItsOwnTopic()
    {
        var a = new SimulatedPopulation(6, seed: 9);
        var b = new SimulatedPopulation(6, seed: 9);
        Assert.Equal(a.Users, b.Users);
        foreach (var user in a.Users)
        {
            var q = UserQuestion.Draw(user.Preferences.Topic, new Random(1));
            Assert.Contains(user.Preferences.Topic == "addition" ? " + " : " - ", q.Text);
            var parts = q.Text["What is ".Length..^1].Split(' ');
            long x = long.Parse(parts[0]), y = long.Parse(parts[2]);
            Assert.Equal((parts[1] == "+" ? x + y : x - y).ToString(), q.Expected);
        }
    }

    [Fact]
    public void AnEditedCorrectionKeepsARightAnswersLayoutAndRedoesAWrongOnesStepsOneALine()
    {
        var question = new UserQuestion("What is 57 + 68?", "125");
        var concise = new SimulatedUser("u", new UserPreferences(Concise: true, RequiresAnswerLine: true, "addition", "carry", LengthTaste.OneLine), Habits);
        const string right = "Add digit by digit from the right.\n7 + 8 = 15, write 5 carry 1.\n5 + 6 + 1 = 12, write 2 carry 1.\n0 + 0 + 1 = 1, write 1.\nAnswer: 125";

        // Right: the same lines, "carry" replaced — still too long for this concise user, no longer with the word they dislike (0.6 → 0.75).
        string edited = concise.EditedAnswer(question, right);
        Assert.Equal(right.Replace("carry", "keep", StringComparison.Ordinal), edited);
        Assert.Equal(0.6, concise.Satisfaction(question, right), 12);
        Assert.Equal(0.75, concise.Satisfaction(question, edited), 12);

        // Wrong (or cut off before its "Answer:" line): the corpus's steps one a line, the word replaced, the right result.
        string redone = concise.EditedAnswer(question, "Add digit by digit from the right.\n7 + 8 = 15, write 5 carry 1. 4 + 6 + 1 = 11");
        Assert.Equal("Add digit by digit from the right.\n7 + 8 = 15, write 5 keep 1.\n5 + 6 + 1 = 12, write 2 keep 1.\n0 + 0 + 1 = 1, write 1.\nAnswer: 125", redone);

        // A user who dislikes "borrow" leaves an addition's "carry" alone.
        var other = concise with { Preferences = concise.Preferences with { DislikedPhrase = "borrow" } };
        Assert.Equal(right, other.EditedAnswer(question, right));
    }
}
