using System.Text.RegularExpressions;
using Whetstone.Cookbook.Corpus;

namespace Whetstone.Cookbook.Tests.Corpus;

public class CorpusGeneratorTests
{
    [Fact]
    public void SameSeedGivesTheSameExamplesAndAnotherSeedDoesNot()
    {
        string Render(long seed) => string.Join("\n", CorpusGenerator.Generate(seed, heldOut: false).Take(50).Select(e => e.Messages[0].Content + "|" + e.Answer));
        Assert.Equal(Render(7), Render(7));
        Assert.NotEqual(Render(7), Render(8));
    }

    [Fact]
    public void TrainAndHeldOutNeverShareAQuestionAndEveryTaskAppears()
    {
        var train = CorpusGenerator.Generate(1, heldOut: false).Take(3000).ToList();
        var heldOut = CorpusGenerator.Generate(1, heldOut: true).Take(300).ToList();
        var trainQuestions = train.Select(e => e.Task + e.Messages[0].Content).ToHashSet();
        Assert.DoesNotContain(heldOut, e => trainQuestions.Contains(e.Task + e.Messages[0].Content));
        foreach (var task in CorpusGenerator.Tasks)
        {
            Assert.Contains(train, e => e.Task == task);
            Assert.Contains(heldOut, e => e.Task == task);
        }
    }

    [Fact]
    public void ArithmeticAnswersAndWorkedStepsAreCorrect()
    {
        foreach (var example in CorpusGenerator.Generate(3, heldOut: false, [ArithmeticTask.Name]).Take(500))
        {
            var m = Regex.Match(example.Messages[0].Content, @"What is (\d+) ([+-]) (\d+)\?");
            Assert.True(m.Success, example.Messages[0].Content);
            long a = long.Parse(m.Groups[1].Value), b = long.Parse(m.Groups[3].Value);
            long expected = m.Groups[2].Value == "+" ? a + b : a - b;
            Assert.Equal(expected.ToString(), example.Answer);
            var completion = example.Messages[^1].Content;
            Assert.Equal(example.Answer, ArithmeticTask.ExtractAnswer(completion));
            // Every step line is true arithmetic: "x + y (+ c) = s" or "x - y = d".
            foreach (Match step in Regex.Matches(completion, @"^(\d+) ([+-]) (\d+)(?: \+ (\d+))? = (\d+)", RegexOptions.Multiline))
            {
                long left = long.Parse(step.Groups[1].Value), right = long.Parse(step.Groups[3].Value);
                long carry = step.Groups[4].Success ? long.Parse(step.Groups[4].Value) : 0;
                long value = step.Groups[2].Value == "+" ? left + right + carry : left - right;
                Assert.Equal(value, long.Parse(step.Groups[5].Value));
            }
        }
    }

    [Fact]
    public void InstructionAndReadingAnswersFollowFromTheQuestion()
    {
        foreach (var example in CorpusGenerator.Generate(4, heldOut: false, [InstructionTask.Name, StoryTask.ReadingName]).Take(400))
        {
            var question = example.Messages[0].Content;
            Assert.Equal($"Answer: {example.Answer}", example.Messages[^1].Content);
            if (question.StartsWith("Sort these numbers"))
            {
                var numbers = question[(question.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse);
                Assert.Equal(string.Join(" ", numbers.Order()), example.Answer);
            }
            else if (question.StartsWith("Reverse this list"))
            {
                var items = question[(question.IndexOf(':') + 1)..].Split(',', StringSplitOptions.TrimEntries);
                Assert.Equal(string.Join(", ", items.Reverse()), example.Answer);
            }
            else if (question.Contains("Question: Where does"))
            {
                var person = Regex.Match(question, @"Where does (\w+) live\?").Groups[1].Value;
                Assert.Contains($"{person} lives in {example.Answer} ", question);
            }
            else if (question.StartsWith("How many times"))
            {
                var m = Regex.Match(question, "letter '(.)' appear in \"(\\w+)\"");
                Assert.Equal(m.Groups[2].Value.Count(c => c == m.Groups[1].Value[0]).ToString(), example.Answer);
            }
        }
    }

    [Fact]
    public void MultiplicationIsWorkedCorrectlyAndKeptOutOfThePretrainingMix()
    {
        Assert.DoesNotContain(ArithmeticTask.MultiplicationName, CorpusGenerator.Tasks);
        Assert.DoesNotContain(CorpusGenerator.Generate(2, heldOut: false).Take(2000), e => e.Task == ArithmeticTask.MultiplicationName);
        foreach (var example in CorpusGenerator.Generate(2, heldOut: false, [ArithmeticTask.MultiplicationName]).Take(300))
        {
            var m = Regex.Match(example.Messages[0].Content, @"What is (\d+) \* (\d)\?");
            Assert.True(m.Success, example.Messages[0].Content);
            Assert.Equal((long.Parse(m.Groups[1].Value) * long.Parse(m.Groups[2].Value)).ToString(), example.Answer);
            Assert.Equal(example.Answer, ArithmeticTask.ExtractAnswer(example.Messages[^1].Content));
            foreach (Match step in Regex.Matches(example.Messages[^1].Content, @"^(\d) \* (\d)(?: \+ (\d+))? = (\d+)", RegexOptions.Multiline))
                Assert.Equal(int.Parse(step.Groups[1].Value) * int.Parse(step.Groups[2].Value) + (step.Groups[3].Success ? int.Parse(step.Groups[3].Value) : 0),
                    int.Parse(step.Groups[4].Value));
        }
    }

    [Fact]
    public void AnswerExtractionReadsTheLastAnswerLine()
    {
        Assert.Equal("936", ArithmeticTask.ExtractAnswer("7 + 9 = 16\nAnswer: 936"));
        Assert.Equal("12", ArithmeticTask.ExtractAnswer("Answer: 5\nno, Answer: 12 surely"));
        Assert.Null(ArithmeticTask.ExtractAnswer("I do not know"));
        Assert.Null(ArithmeticTask.ExtractAnswer("Answer: none"));
    }
}
