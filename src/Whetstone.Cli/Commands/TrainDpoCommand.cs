using System.CommandLine;
using Whetstone.Client;
using Whetstone.Cookbook.Preference;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet train dpo`: DPO on corpus preference pairs, in process, with held-out DPO and
/// greedy-accuracy figures before and after.</summary>
internal static class TrainDpoCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Base model directory", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output directory (metrics.jsonl, summary.json, service data)", Required = true };
        var beta = new Option<double>("--beta") { DefaultValueFactory = _ => DpoLoss.DefaultBeta };
        var rank = new Option<int>("--rank") { DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-4 };
        var batch = new Option<int>("--batch-pairs") { DefaultValueFactory = _ => 8 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 50 };
        var trainPairs = new Option<int>("--train-pairs") { DefaultValueFactory = _ => 400 };
        var heldOutPairs = new Option<int>("--held-out-pairs") { DefaultValueFactory = _ => 100 };
        var evalEvery = new Option<int>("--eval-every") { DefaultValueFactory = _ => 10 };
        var tasks = new Option<string>("--tasks") { Description = "Comma-separated corpus tasks: arithmetic, instruction", DefaultValueFactory = _ => "arithmetic,instruction" };
        var evalCount = new Option<int>("--eval-count") { Description = "Held-out greedy accuracy examples per task before and after (0: skip)", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "auto" };
        var device = DeviceOption.Create();
        var seed = new Option<long>("--seed");
        var command = new Command("dpo", "Direct Preference Optimization on preference pairs made from the corpus.")
        {
            model, output, beta, rank, lr, batch, steps, trainPairs, heldOutPairs, evalEvery, tasks, evalCount, dtype, device, seed,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                var modelDirectory = result.GetValue(model)!;
                var outputDirectory = result.GetValue(output)!;
                var taskList = result.GetValue(tasks)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                await using var core = await InProcessService.StartAsync([modelDirectory], outputDirectory, result.GetValue(dtype)!, computeDevice);
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                var outcome = await DpoRecipe.RunAsync(client, HuggingFaceTokenizer.Load(modelDirectory), new DpoOptions
                {
                    BaseModel = PreferenceCommandSupport.ModelName(modelDirectory), OutputDirectory = outputDirectory,
                    Beta = result.GetValue(beta), Rank = result.GetValue(rank), LearningRate = result.GetValue(lr),
                    BatchPairs = result.GetValue(batch), Steps = result.GetValue(steps), TrainPairs = result.GetValue(trainPairs),
                    HeldOutPairs = result.GetValue(heldOutPairs), EvaluateEvery = result.GetValue(evalEvery), Tasks = taskList,
                    Seed = result.GetValue(seed),
                }, Console.WriteLine, cancellationToken);
                Console.WriteLine($"held-out DPO accuracy {outcome.HeldOutBefore.Accuracy:P1} → {outcome.HeldOutAfter.Accuracy:P1}, margin {outcome.HeldOutBefore.Margin:F3} → {outcome.HeldOutAfter.Margin:F3}");
                Console.WriteLine($"held-out likelihood accuracy {outcome.LikelihoodAccuracyBefore:P1} → {outcome.LikelihoodAccuracyAfter:P1}");
                Console.WriteLine($"sampler checkpoint: {outcome.SamplerPath}");
                if (result.GetValue(evalCount) is int count and > 0)
                {
                    await PreferenceCommandSupport.AccuracyAsync(client, modelDirectory, null, taskList, count, cancellationToken);
                    await PreferenceCommandSupport.AccuracyAsync(client, modelDirectory, outcome.SamplerPath, taskList, count, cancellationToken);
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
