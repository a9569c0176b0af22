using System.CommandLine;
using Whetstone.Client;
using Whetstone.Cookbook.Preference;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet train reward-model`: a value-head reward model on corpus preferences
/// (Bradley-Terry pairs or thumbs up/down), in process, with held-out pairwise accuracy — and,
/// with --judge, the same accuracy for an LM judge scoring by log p(Yes) − log p(No).</summary>
internal static class TrainRewardModelCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Base model directory", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output directory (metrics.jsonl, summary.json, service data)", Required = true };
        var loss = new Option<string>("--loss") { Description = "bradley_terry (pairs) or binary_logistic (thumbs up/down)", DefaultValueFactory = _ => "bradley_terry" };
        var rank = new Option<int>("--rank") { DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-3 };
        var batch = new Option<int>("--batch-pairs") { DefaultValueFactory = _ => 8 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 60 };
        var trainPairs = new Option<int>("--train-pairs") { DefaultValueFactory = _ => 400 };
        var heldOutPairs = new Option<int>("--held-out-pairs") { DefaultValueFactory = _ => 100 };
        var evalEvery = new Option<int>("--eval-every") { DefaultValueFactory = _ => 20 };
        var tasks = new Option<string>("--tasks") { DefaultValueFactory = _ => "arithmetic,instruction" };
        var judge = new Option<bool>("--judge") { Description = "Also report the held-out pairwise accuracy of an LM judge" };
        var judgeModel = new Option<string?>("--judge-model") { Description = "Judge model directory (default: the base model)" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "auto" };
        var device = DeviceOption.Create();
        var seed = new Option<long>("--seed");
        var command = new Command("reward-model", "Train a reward model (LoRA + scalar value head) on preferences made from the corpus.")
        {
            model, output, loss, rank, lr, batch, steps, trainPairs, heldOutPairs, evalEvery, tasks, judge, judgeModel, dtype, device, seed,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                var modelDirectory = result.GetValue(model)!;
                var judgeDirectory = result.GetValue(judgeModel) ?? modelDirectory;
                var outputDirectory = result.GetValue(output)!;
                var taskList = result.GetValue(tasks)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                var directories = new[] { modelDirectory, judgeDirectory }.Select(Path.GetFullPath).Distinct().ToArray();
                await using var core = await InProcessService.StartAsync(directories, outputDirectory, result.GetValue(dtype)!, computeDevice);
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                var options = new RewardModelOptions
                {
                    BaseModel = PreferenceCommandSupport.ModelName(modelDirectory), OutputDirectory = outputDirectory, Loss = result.GetValue(loss)!,
                    Rank = result.GetValue(rank), LearningRate = result.GetValue(lr), BatchPairs = result.GetValue(batch), Steps = result.GetValue(steps),
                    TrainPairs = result.GetValue(trainPairs), HeldOutPairs = result.GetValue(heldOutPairs), EvaluateEvery = result.GetValue(evalEvery),
                    Tasks = taskList, Seed = result.GetValue(seed),
                };
                var (outcome, _) = await RewardModelRecipe.RunAsync(client, HuggingFaceTokenizer.Load(modelDirectory), options, Console.WriteLine, cancellationToken);
                Console.WriteLine($"held-out pairwise accuracy {outcome.HeldOutAccuracyBefore:P1} → {outcome.HeldOutAccuracyAfter:P1} over {options.HeldOutPairs} pairs");
                Console.WriteLine($"reward model state: {outcome.StatePath}");
                if (result.GetValue(judge))
                {
                    var sampler = await client.CreateSamplingClientAsync(baseModel: PreferenceCommandSupport.ModelName(judgeDirectory), cancellationToken: cancellationToken);
                    var lmJudge = new LmJudge(sampler, HuggingFaceTokenizer.Load(judgeDirectory));
                    var pairs = PreferenceData.Pairs(options.Seed, heldOut: true, taskList).Take(options.HeldOutPairs).ToList();
                    Console.WriteLine($"LM judge ({PreferenceCommandSupport.ModelName(judgeDirectory)}, log p(Yes) − log p(No)): held-out pairwise accuracy {await lmJudge.PairwiseAccuracyAsync(pairs, cancellationToken):P1}");
                }
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
