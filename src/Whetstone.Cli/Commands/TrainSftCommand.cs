using System.CommandLine;
using Whetstone.Client;
using Whetstone.Cookbook.Recipes;
using Whetstone.Chat;
using Whetstone.Engine.Runtime;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet train sft`: the SFT recipe, run in process (the service core without HTTP).</summary>
internal static class TrainSftCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Base model directory", Required = true };
        var data = new Option<string>("--data") { Description = "Chat JSONL: {\"messages\": [...]} per line", Required = true };
        var heldOut = new Option<string?>("--held-out") { Description = "Chat JSONL for held-out NLL" };
        var output = new Option<string>("--out", "-o") { Description = "Output directory (metrics.jsonl, loss.png, checkpoints; rerun to resume)", Required = true };
        var rank = new Option<int>("--rank") { DefaultValueFactory = _ => 32 };
        var full = new Option<bool>("--full") { Description = "Full fine-tuning instead of LoRA" };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-4 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 100 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { DefaultValueFactory = _ => 50 };
        var evalEvery = new Option<int>("--eval-every") { DefaultValueFactory = _ => 25 };
        var trainOn = new Option<string>("--train-on") { Description = "last_assistant, all_assistant or all", DefaultValueFactory = _ => "all_assistant" };
        var strict = new Option<bool>("--strict") { Description = "Refuse the data on the first bad line instead of skipping it" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "auto" };
        var device = DeviceOption.Create();
        var seed = new Option<long>("--seed");
        var command = new Command("sft", "Supervised fine-tuning on chat JSONL through the SDK.")
        {
            model, data, heldOut, output, rank, full, lr, batch, steps, checkpointEvery, evalEvery, trainOn, strict, dtype, device, seed,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                var modelDirectory = Path.GetFullPath(result.GetValue(model)!);
                var outputDirectory = result.GetValue(output)!;
                var options = new SftOptions
                {
                    BaseModel = Path.GetFileName(modelDirectory.TrimEnd('/')),
                    TrainData = result.GetValue(data)!,
                    HeldOutData = result.GetValue(heldOut),
                    OutputDirectory = outputDirectory,
                    Rank = result.GetValue(rank), FullFineTuning = result.GetValue(full), LearningRate = result.GetValue(lr),
                    BatchSize = result.GetValue(batch), Steps = result.GetValue(steps), CheckpointEvery = result.GetValue(checkpointEvery),
                    EvaluateEvery = result.GetValue(evalEvery), SkipBadLines = !result.GetValue(strict), Seed = result.GetValue(seed),
                    TrainOn = result.GetValue(trainOn) switch
                    {
                        "last_assistant" => TrainOnWhat.LastAssistantMessage,
                        "all_assistant" => TrainOnWhat.AllAssistantMessages,
                        "all" => TrainOnWhat.AllMessages,
                        var other => throw new ArgumentException($"--train-on '{other}' is not last_assistant, all_assistant or all"),
                    },
                };
                await using var core = await InProcessService.StartAsync([modelDirectory], outputDirectory, result.GetValue(dtype)!, computeDevice);
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                var outcome = await SftRecipe.RunAsync(client, HuggingFaceTokenizer.Load(modelDirectory), options, Console.WriteLine, cancellationToken);
                Console.WriteLine($"loss {outcome.FirstLoss:F4} → {outcome.LastLoss:F4} per token" + (outcome.HeldOutNll is double nll ? $", held-out NLL {nll:F4}" : ""));
                Console.WriteLine($"sampler checkpoint: {outcome.SamplerPath}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or FileNotFoundException or InvalidOperationException or WhetstoneApiException)
            {
                return CommandErrors.Fail(CommandErrors.BadArguments, e.Message);
            }
        });
        return new Command("train", "Training recipes.")
        {
            command,
            TrainTokenizerCommand.Create(),
            TrainRlCommand.Create(),
            TrainDpoCommand.Create(),
            TrainRewardModelCommand.Create(),
            TrainDistillCommand.Create(),
            TrainRlhfCommand.Create(),
        };
    }
}
