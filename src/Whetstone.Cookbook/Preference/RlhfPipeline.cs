using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;
using Whetstone.Cookbook.Rl;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Preference;

/// <summary>
/// RLHF through the SDK: (1) the SFT policy is the base model served (for whet-nano that is
/// the shipped model, whose pretraining mix is the corpus's chat-formatted worked answers);
/// (2) a reward model is trained on preference pairs (<see cref="RewardModelRecipe"/>);
/// (3) part A's RL loop (<see cref="RlRecipe"/>, group-centred advantages, importance sampling,
/// KL penalty to the SFT policy) trains the policy on corpus questions rewarded by the reward
/// model's score (<see cref="RewardModelEnv"/>); (4) a held-out preference oracle — the task's
/// verifiable answer, never used in training — judges the RLHF policy against the SFT policy
/// (<see cref="OracleWinRate"/>), and both policies' answers are scored by the reward model, so
/// a rise in reward that the oracle does not share (reward hacking) is visible.
/// </summary>
public static class RlhfPipeline
{
    public static async Task<RlhfResult> RunAsync(ServiceClient client, HuggingFaceTokenizer tokenizer, RlhfOptions options, Action<string> log,
        CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var renderer = RendererFactory.For(tokenizer);
        var (rewardModel, rm) = await RewardModelRecipe.RunAsync(client, tokenizer, new RewardModelOptions
        {
            BaseModel = options.BaseModel, OutputDirectory = Path.Combine(options.OutputDirectory, "reward-model"), Loss = options.RewardLoss,
            Rank = options.Rank, LearningRate = options.RewardLearningRate, Steps = options.RewardSteps, TrainPairs = options.RewardTrainPairs,
            HeldOutPairs = options.RewardHeldOutPairs, EvaluateEvery = Math.Max(1, options.RewardSteps / 3), Tasks = options.Tasks, Seed = options.Seed,
        }, line => log("[reward model] " + line), cancellationToken);

        var rl = await RlRecipe.RunAsync(client, new RewardModelProblems(renderer, rm, options.Tasks), new RlOptions
        {
            BaseModel = options.BaseModel, OutputDirectory = Path.Combine(options.OutputDirectory, "rl"), Rank = options.Rank,
            LearningRate = options.RlLearningRate, GroupSize = options.GroupSize, GroupsPerBatch = options.GroupsPerBatch, Steps = options.RlSteps,
            MaxTokens = options.MaxTokens, KlPenalty = options.KlPenalty, EvalEvery = options.RlSteps, EvalCount = options.RlEvalCount, Seed = options.Seed,
            CheckpointEvery = options.RlSteps,
        }, line => log("[rl] " + line), cancellationToken);

        var questions = CorpusGenerator.Generate(options.Seed + 1, heldOut: true, options.Tasks).Take(options.WinRateQuestions).ToList();
        var sft = await client.CreateSamplingClientAsync(baseModel: options.BaseModel, cancellationToken: cancellationToken);
        var policy = await client.CreateSamplingClientAsync(modelPath: rl.SamplerPath, cancellationToken: cancellationToken);
        var winRate = await OracleWinRate.RunAsync(policy, sft, renderer, questions, options.MaxTokens, cancellationToken);
        double sftReward = await MeanRewardAsync(rm, renderer, questions, await OracleWinRate.GreedyRepliesAsync(sft, renderer, questions, options.MaxTokens, cancellationToken), cancellationToken);
        double rlhfReward = await MeanRewardAsync(rm, renderer, questions, await OracleWinRate.GreedyRepliesAsync(policy, renderer, questions, options.MaxTokens, cancellationToken), cancellationToken);
        log($"oracle win-rate of the RLHF policy against the SFT policy: {winRate.WinRate:P1} ({winRate.Wins} wins, {winRate.Losses} losses, {winRate.Ties} ties; "
            + $"oracle accuracy {winRate.BaselineAccuracy:P1} → {winRate.CandidateAccuracy:P1}); reward-model score {sftReward:F3} → {rlhfReward:F3}");

        var result = new RlhfResult(rewardModel, rl.SamplerPath, winRate, sftReward, rlhfReward);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "summary.json"),
            JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        return result;
    }

    static async Task<double> MeanRewardAsync(TrainingClient rm, IRenderer renderer, IReadOnlyList<ChatExample> questions, IReadOnlyList<string> replies,
        CancellationToken cancellationToken)
    {
        var inputs = questions.Select((q, i) => PreferenceDatums.Sequence(renderer, q.Prompt, replies[i])).ToArray();
        return (await (await rm.ScoreAsync(inputs, cancellationToken)).ResultAsync(cancellationToken)).Values.Average();
    }
}
