using Whetstone.Chat.Tests;
using Whetstone.Chat;
using Whetstone.Cookbook.Rl;

namespace Whetstone.Cookbook.Tests.Rl;

/// <summary>Rewards, the format penalty and multi-turn transitions of the envs, on real
/// renderer tokens.</summary>
public class EnvTests
{
    readonly Qwen3Renderer _renderer = new(RendererTokenizers.ChatMl);

    IReadOnlyList<int> Reply(string text, bool stopped = true) => RendererTokenizers.ChatMl.Encode(stopped ? text + "<|im_end|>" : text);

    AnswerEnv Arithmetic(string question = "What is 1234 + 4321?", string answer = "5555") =>
        new(_renderer, question, answer, Whetstone.Cookbook.Corpus.ArithmeticTask.ExtractAnswer, formatPenalty: 0.1);

    [Fact]
    public void ArithmeticObservationIsTheRenderedQuestionAndStopsAtTheEndOfTurn()
    {
        var env = Arithmetic();
        var observation = env.InitialObservation();
        Assert.Equal(RendererTokenizers.ChatMl.Encode("<|im_start|>user\nWhat is 1234 + 4321?<|im_end|>\n<|im_start|>assistant\n"), observation.Tokens);
        Assert.Equal(_renderer.StopTokenIds, observation.StopTokenIds);
    }

    [Theory]
    [InlineData("Add digit by digit.\nAnswer: 5555", true, 1.0, 1, 1)]
    [InlineData("Answer: 5556", true, 0.0, 0, 1)]
    [InlineData("I think it is 5555", true, -0.1, 0, 0)]       // no "Answer:": format penalty
    [InlineData("Answer: 5555", false, 0.9, 1, 0)]             // cut off by max_tokens: right, but penalised
    [InlineData("Answer: 55", false, -0.1, 0, 0)]
    public void ArithmeticRewardIsCorrectnessMinusTheFormatPenalty(string text, bool stopped, double reward, double correct, double format)
    {
        var env = Arithmetic();
        env.InitialObservation();
        var result = env.Step(Reply(text, stopped));
        Assert.Equal(reward, result.Reward, 12);
        Assert.True(result.Done);
        Assert.Null(result.Next);
        Assert.Equal(correct, result.Metrics["correct"]);
        Assert.Equal(format, result.Metrics["format"]);
    }

    [Fact]
    public void InstructionAnswerMustMatchExactly()
    {
        var env = new AnswerEnv(_renderer, "Reverse this list: a, b", "b, a", InstructionProblems.ExtractAnswer, 0.1);
        env.InitialObservation();
        Assert.Equal(1, env.Step(Reply("Answer: b, a")).Reward);
        var other = new AnswerEnv(_renderer, "Reverse this list: a, b", "b, a", InstructionProblems.ExtractAnswer, 0.1);
        other.InitialObservation();
        Assert.Equal(0, other.Step(Reply("Answer: a, b")).Reward);
    }

    [Fact]
    public void GuessNumberAnswersHigherOrLowerAndEachObservationExtendsTheLast()
    {
        var env = new GuessNumberEnv(_renderer, secret: 6, upper: 10, maxTurns: 4, formatPenalty: 0.1);
        var first = env.InitialObservation();

        var low = Reply("Answer: 3");
        var afterLow = env.Step(low);
        Assert.False(afterLow.Done);
        Assert.Equal(0, afterLow.Reward);
        // The next observation is exactly: what the policy saw, what it said, and the env's reply.
        var expectedSuffix = RendererTokenizers.ChatMl.Encode("\n<|im_start|>user\nHigher.<|im_end|>\n<|im_start|>assistant\n");
        Assert.Equal([.. first.Tokens, .. low, .. expectedSuffix], afterLow.Next!.Tokens);

        var high = Reply("Answer: 8");
        var afterHigh = env.Step(high);
        Assert.False(afterHigh.Done);
        Assert.Equal([.. afterLow.Next.Tokens, .. high, .. RendererTokenizers.ChatMl.Encode("\n<|im_start|>user\nLower.<|im_end|>\n<|im_start|>assistant\n")],
            afterHigh.Next!.Tokens);

        var right = env.Step(Reply("Answer: 6"));
        Assert.True(right.Done);
        Assert.Equal(1, right.Reward);
        Assert.Equal(1, right.Metrics["correct"]);
        Assert.Equal(3, right.Metrics["turns"]);
    }

    [Fact]
    public void GuessNumberEndsAfterItsLastTurnOrOnABadReply()
    {
        var env = new GuessNumberEnv(_renderer, secret: 6, upper: 10, maxTurns: 2, formatPenalty: 0.1);
        env.InitialObservation();
        Assert.False(env.Step(Reply("Answer: 1")).Done);
        var last = env.Step(Reply("Answer: 2"));
        Assert.True(last.Done);
        Assert.Equal(0, last.Reward);
        Assert.Equal(0, last.Metrics["correct"]);

        var rambling = new GuessNumberEnv(_renderer, secret: 6, upper: 10, maxTurns: 5, formatPenalty: 0.1);
        rambling.InitialObservation();
        var bad = rambling.Step(Reply("maybe five"));
        Assert.True(bad.Done);
        Assert.Equal(-0.1, bad.Reward, 12);
        // Cut off mid-reply: nothing to answer, the game ends even though the guess parses.
        var cut = new GuessNumberEnv(_renderer, secret: 6, upper: 10, maxTurns: 5, formatPenalty: 0.1);
        cut.InitialObservation();
        Assert.True(cut.Step(Reply("Answer: 2", stopped: false)).Done);
    }

    [Fact]
    public void AnEnvRunsOneEpisode()
    {
        var env = Arithmetic();
        Assert.Throws<InvalidOperationException>(() => env.Step(Reply("Answer: 1")));
        env.InitialObservation();
        Assert.Throws<InvalidOperationException>(() => env.InitialObservation());
    }

    [Fact]
    public void ArithmeticProblemsHaveTheAskedDigitsTheRightAnswerAndNeverCrossTheSplit()
    {
        var source = new ArithmeticProblems(_renderer, 5, 5, 0.1);
        var random = new Random(3);
        for (int i = 0; i < 50; i++)
        {
            bool heldOut = i % 2 == 0;
            var problem = source.Draw(random, heldOut);
            var parts = problem.Description["What is ".Length..^1].Split(' ');
            long a = long.Parse(parts[0]), b = long.Parse(parts[2]);
            Assert.InRange(a, 10_000, 99_999);
            Assert.InRange(b, 10_000, 99_999);
            var env = (AnswerEnv)problem.MakeEnv();
            Assert.Equal((parts[1] == "+" ? a + b : a - b).ToString(), env.Answer);
            var example = new Whetstone.Cookbook.Corpus.ChatExample(Whetstone.Cookbook.Corpus.ArithmeticTask.Name, [ChatMessage.User(problem.Description)], env.Answer);
            Assert.Equal(heldOut, Whetstone.Cookbook.Corpus.CorpusGenerator.IsHeldOut(example, 0.1));
        }
    }

    [Fact]
    public void DatasetBatchesArePureFunctionsOfTheirIndex()
    {
        var source = new ArithmeticProblems(_renderer, 2, 3, 0.1);
        var dataset = new ProblemDataset(source, groupsPerBatch: 3, groupSize: 4, seed: 9);
        var again = new ProblemDataset(source, groupsPerBatch: 3, groupSize: 4, seed: 9);
        Assert.Equal(dataset.GetBatch(5).Select(g => g.Description), again.GetBatch(5).Select(g => g.Description));
        Assert.NotEqual(dataset.GetBatch(5).Select(g => g.Description), dataset.GetBatch(6).Select(g => g.Description));
        var group = dataset.GetBatch(0)[0].MakeEnvs();
        Assert.Equal(4, group.Count);
        Assert.Equal(4, group.Distinct().Count());   // fresh envs, one per attempt
    }
}
