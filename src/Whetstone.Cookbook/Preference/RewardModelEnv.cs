using Whetstone.Client;
using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;
using Whetstone.Cookbook.Rl;

namespace Whetstone.Cookbook.Preference;

/// <summary>
/// One corpus question whose reward is a reward model's score of the reply (RLHF), while the
/// task's verifiable answer is kept as the held-out oracle: the "correct" metric the RL loop logs
/// and evaluates is the oracle's, never seen by training. The score is read with the reward
/// model's score call and waited for here, because part A's <see cref="IEnv.Step"/> is
/// synchronous; the RL loop plays the episodes of a turn one after another, so each wait is one
/// short scheduler cycle.
/// </summary>
public sealed class RewardModelEnv : ChatEnv
{
    readonly IRenderer _renderer;
    readonly TrainingClient _rewardModel;
    readonly ChatExample _example;

    public RewardModelEnv(IRenderer renderer, TrainingClient rewardModel, ChatExample example) : base(renderer, example.Prompt)
    {
        _renderer = renderer;
        _rewardModel = rewardModel;
        _example = example;
    }

    protected override EnvTurn Respond(ChatMessage reply, bool stopped)
    {
        var (rewardModel, example) = (_rewardModel, _example);
        var sequence = PreferenceDatums.Sequence(_renderer, example.Prompt, reply.Content);
        double score = rewardModel.ScoreAsync([sequence]).GetAwaiter().GetResult().ResultAsync().GetAwaiter().GetResult().Values[0];
        bool correct = OracleAnswer.IsCorrect(example, reply.Content);
        return new EnvTurn(score, true, null, new Dictionary<string, double>
        {
            ["correct"] = correct ? 1 : 0,
            ["format"] = stopped && OracleAnswer.Extract(example.Task, reply.Content) is not null ? 1 : 0,
        });
    }
}

/// <summary>Corpus questions (arithmetic, instruction) with rewards from a reward model, split
/// train / held-out as the corpus splits them.</summary>
public sealed class RewardModelProblems(IRenderer renderer, TrainingClient rewardModel, IReadOnlyCollection<string> tasks) : IProblemSource
{
    public EnvProblem Draw(Random random, bool heldOut)
    {
        var example = CorpusGenerator.Generate(random.NextInt64(), heldOut, tasks).First();
        return new EnvProblem(example.Messages[0].Content, () => new RewardModelEnv(renderer, rewardModel, example));
    }
}
