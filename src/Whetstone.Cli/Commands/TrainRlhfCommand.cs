using System.CommandLine;
using Whetstone.Client;
using Whetstone.Cookbook.Preference;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet train rlhf`: reward model → RL against it → oracle win-rate against the SFT
/// policy, in process.</summary>
internal static class TrainRlhfCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "The SFT policy: a base model directory", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output directory (reward-model/, rl/, summary.json, service data)", Required = true };
        var tasks = new Option<string>("--tasks") { DefaultValueFactory = _ => "arithmetic,instruction" };
        var rewardLoss = new Option<string>("--reward-loss") { Description = "bradley_terry or binary_logistic", DefaultValueFactory = _ => "bradley_terry" };
        var rewardSteps = new Option<int>("--reward-steps") { DefaultValueFactory = _ => 150 };
        var rewardLr = new Option<double>("--reward-lr") { DefaultValueFactory = _ => 1e-3 };
        var rewardPairs = new Option<int>("--reward-pairs") { DefaultValueFactory = _ => 1200 };
        var rlSteps = new Option<int>("--rl-steps") { DefaultValueFactory = _ => 20 };
        var rlLr = new Option<double>("--rl-lr") { DefaultValueFactory = _ => 1e-4 };
        var rank = new Option<int>("--rank") { DefaultValueFactory = _ => 16 };
        var groupSize = new Option<int>("--group-size") { DefaultValueFactory = _ => 8 };
        var groups = new Option<int>("--groups-per-batch") { DefaultValueFactory = _ => 4 };
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 96 };
        var kl = new Option<double>("--kl-penalty") { DefaultValueFactory = _ => 0.05 };
        var questions = new Option<int>("--win-rate-questions") { DefaultValueFactory = _ => 100 };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "auto" };
        var device = DeviceOption.Create();
        var seed = new Option<long>("--seed");
        var command = new Command("rlhf", "RLHF: train a reward model on preferences, RL the SFT policy against it, judge by a held-out oracle.")
        {
            model, output, tasks, rewardLoss, rewardSteps, rewardLr, rewardPairs, rlSteps, rlLr, rank, groupSize, groups, maxTokens, kl, questions, dtype, device, seed,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                var modelDirectory = result.GetValue(model)!;
                var outputDirectory = result.GetValue(output)!;
                await using var core = await InProcessService.StartAsync([modelDirectory], outputDirectory, result.GetValue(dtype)!, computeDevice);
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                var outcome = await RlhfPipeline.RunAsync(client, HuggingFaceTokenizer.Load(modelDirectory), new RlhfOptions
                {
                    BaseModel = PreferenceCommandSupport.ModelName(modelDirectory), OutputDirectory = outputDirectory,
                    Tasks = result.GetValue(tasks)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                    RewardLoss = result.GetValue(rewardLoss)!, RewardSteps = result.GetValue(rewardSteps), RewardLearningRate = result.GetValue(rewardLr),
                    RewardTrainPairs = result.GetValue(rewardPairs), RlSteps = result.GetValue(rlSteps), RlLearningRate = result.GetValue(rlLr),
                    Rank = result.GetValue(rank), GroupSize = result.GetValue(groupSize), GroupsPerBatch = result.GetValue(groups),
                    MaxTokens = result.GetValue(maxTokens), KlPenalty = result.GetValue(kl), WinRateQuestions = result.GetValue(questions),
                    Seed = result.GetValue(seed),
                }, Console.WriteLine, cancellationToken);
                Console.WriteLine($"reward model held-out pairwise accuracy {outcome.RewardModel.HeldOutAccuracyBefore:P1} → {outcome.RewardModel.HeldOutAccuracyAfter:P1}");
                Console.WriteLine($"win-rate vs SFT (oracle) {outcome.WinRate.WinRate:P1}: {outcome.WinRate.Wins} wins, {outcome.WinRate.Losses} losses, {outcome.WinRate.Ties} ties over {outcome.WinRate.Questions}");
                Console.WriteLine($"policy sampler checkpoint: {outcome.PolicySamplerPath}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidOperationException or WhetstoneApiException)
            {
                return CommandErrors.Fail(CommandErrors.BadArguments, e.Message);
            }
        });
        return command;
    }
}
