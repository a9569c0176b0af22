using Whetstone.Chat.Tests;
using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;
using Whetstone.Cookbook.Rl;

namespace Whetstone.Cookbook.Tests.Rl;

/// <summary>The multiplication env: the corpus's questions and split, the arithmetic env's reward.</summary>
public class MultiplicationProblemsTests
{
    readonly Qwen3Renderer _renderer = new(RendererTokenizers.ChatMl);

    IReadOnlyList<int> Reply(string text) => RendererTokenizers.ChatMl.Encode(text + "<|im_end|>");

    [Fact]
    public void ProblemsAreTheCorpusQuestionsWithTheProductAsAnswerAndNeverCrossTheSplit()
    {
        var source = new MultiplicationProblems(_renderer, 0.1);
        var random = new Random(5);
        for (int i = 0; i < 60; i++)
        {
            bool heldOut = i % 2 == 0;
            var problem = source.Draw(random, heldOut);
            var parts = problem.Description["What is ".Length..^1].Split(' ');
            Assert.Equal("*", parts[1]);
            int a = int.Parse(parts[0]), b = int.Parse(parts[2]);
            Assert.InRange(a, 10, 9_999);
            Assert.InRange(b, 2, 9);
            var env = (AnswerEnv)problem.MakeEnv();
            Assert.Equal((a * b).ToString(), env.Answer);
            var example = new ChatExample(ArithmeticTask.MultiplicationName, [ChatMessage.User(problem.Description)], env.Answer);
            Assert.Equal(heldOut, CorpusGenerator.IsHeldOut(example, 0.1));
        }
    }

    [Fact]
    public void RewardIsOneForTheProductZeroForAWrongOneAndPenalisedWithoutAnAnswer()
    {
        var problem = new MultiplicationProblems(_renderer, 0.1).Draw(new Random(1), heldOut: false);
        var parts = problem.Description["What is ".Length..^1].Split(' ');
        string product = (int.Parse(parts[0]) * int.Parse(parts[2])).ToString();
        string wrong = (int.Parse(product) + 1).ToString();

        (double Reward, double Correct, double Format) Score(string text)
        {
            var env = problem.MakeEnv();
            env.InitialObservation();
            var result = env.Step(Reply(text));
            Assert.True(result.Done);
            return (result.Reward, result.Metrics["correct"], result.Metrics["format"]);
        }

        Assert.Equal((1.0, 1.0, 1.0), Score($"Multiply digit by digit from the right.\nAnswer: {product}"));
        Assert.Equal((0.0, 0.0, 1.0), Score($"Answer: {wrong}"));
        var unparsable = Score($"it is {product}");
        Assert.Equal(-0.1, unparsable.Reward, 12);
        Assert.Equal((0.0, 0.0), (unparsable.Correct, unparsable.Format));
    }

    [Fact]
    public void TheRecipeKnowsTheEnvByName()
    {
        var options = new RlOptions { BaseModel = "m", OutputDirectory = "o", Env = "multiplication" };
        Assert.Contains("multiplication", RlEnvironments.Names);
        Assert.IsType<MultiplicationProblems>(RlEnvironments.Create(options, _renderer));
    }
}
