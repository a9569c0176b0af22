using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Cookbook.Tests;

/// <summary>The copy curriculum's examples can be answered only from their context, and are
/// answered right: every answer but "unknown" occurs in the context, the deterministic
/// <see cref="PatternReader"/> reads the same answer from it (an independent reading of the same
/// text), an updated fact answers with its last stated value (never the stale one), and the values
/// are spread over a pool far larger than the benchmark's lists.</summary>
public class ReaderCopyCurriculumTests
{
    static int Words(string text) => text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length;
    static string Whole(string text, int n) => text;

    static readonly List<ReaderCopyCurriculum.Example> Examples = ReaderCopyCurriculum.Generate(300, 40, 180, 7_000, Words).ToList();

    [Fact]
    public void EveryAnswerIsInItsContextAndThePatternReaderReadsTheSameAnswer()
    {
        foreach (var example in Examples)
            foreach (var q in example.Questions)
            {
                if (q.Answer != MemoryQuestion.Unknown) Assert.Contains(q.Answer, example.Context);
                Assert.Equal(q.Answer, PatternReader.Answer(q.Question, example.Context, Whole));
            }
        // Each question asked once, answered with its label, in user/assistant turns.
        var first = Examples[0];
        Assert.Equal(16, first.Messages.Count);
        Assert.StartsWith("Memory:\n", first.Messages[0].Content);
        Assert.Equal(first.Questions.Select(q => q.Answer).Order(), first.Messages.Where(m => m.Role == "assistant").Select(m => m.Content).Order());
    }

    [Fact]
    public void UpdatedFactsAnswerWithTheLastValueAndStaleValuesAreStatedEarlier()
    {
        int updates = 0;
        foreach (var example in Examples)
            foreach (var q in example.Questions.Where(q => q.StaleAnswer is not null))
            {
                updates++;
                Assert.NotEqual(q.StaleAnswer, q.Answer);
                int stale = example.Context.IndexOf(q.StaleAnswer!, StringComparison.Ordinal), latest = example.Context.LastIndexOf(q.Answer, StringComparison.Ordinal);
                Assert.True(stale >= 0 && stale < latest, $"seed example: stale '{q.StaleAnswer}' at {stale}, latest '{q.Answer}' at {latest}");
            }
        // City and food each change with probability 2/3 (~400 of 600 facts), less where the first value went unsaid.
        Assert.InRange(updates, 300, 500);
    }

    [Fact]
    public void ValuesComeFromALargePoolAndUnknownIsAMinority()
    {
        var pets = Examples.Select(e => e.Questions[0].Answer).Where(a => a != MemoryQuestion.Unknown).ToList();
        var cities = Examples.Select(e => e.Questions[5].Answer).Where(a => a != MemoryQuestion.Unknown).ToList();
        // The benchmark has 8 pet names and 10 cities; here the most common value is a few of ~280.
        Assert.True(pets.Distinct().Count() > 200, $"{pets.Distinct().Count()} distinct pet names of {pets.Count}");
        // A quarter are real cities, 30 of them (~2.5 each here); the benchmark's 10 would give ~30.
        int commonest = cities.GroupBy(c => c).Max(g => g.Count());
        Assert.True(commonest <= 8, $"the most common city {commonest} times of {cities.Count}");
        var answers = Examples.SelectMany(e => e.Questions).ToList();
        double unknown = answers.Count(a => a.Answer == MemoryQuestion.Unknown) / (double)answers.Count;
        Assert.InRange(unknown, 0.125, 0.25);   // the abstention question plus the facts left out (~7% each)
    }

    [Fact]
    public void TheEasyLevelAsksOnlyWhatItsShortContextStates()
    {
        var easy = ReaderCopyCurriculum.Generate(200, 10, 20, 8_000, Words, factChains: 2).ToList();
        var asked = easy.SelectMany(e => e.Questions).ToList();
        foreach (var example in easy)
        {
            Assert.NotEmpty(example.Questions);
            Assert.True(example.Context.Split('\n').Length <= 6, example.Context);   // two chains of at most three lines (a fact and two updates); no room for small talk
            foreach (var q in example.Questions.Where(q => q.Kind != QuestionKind.Abstention))
            {
                Assert.NotEqual(MemoryQuestion.Unknown, q.Answer);
                Assert.Contains(q.Answer, example.Context);
            }
        }
        // Two of ~9 chains per context: about one copy question each; the never-said question one time in four.
        Assert.InRange(asked.Count(q => q.Kind != QuestionKind.Abstention) / (double)easy.Count, 1.0, 3.0);
        Assert.InRange(asked.Count(q => q.Kind == QuestionKind.Abstention), 30, 80);   // plus the contexts that kept only distractors
    }

    [Fact]
    public void SameSeedGivesTheSameExample()
    {
        var again = ReaderCopyCurriculum.One(7_005, 40, 180, Words);
        Assert.Equal(ReaderCopyCurriculum.ToJsonl(Examples[5]), ReaderCopyCurriculum.ToJsonl(again));
        Assert.NotEqual(ReaderCopyCurriculum.ToJsonl(Examples[5]), ReaderCopyCurriculum.ToJsonl(Examples[6]));
    }
}
