using System.CommandLine;
using Whetstone.Client;
using Whetstone.Cookbook.Evals;
using Whetstone.Engine.Runtime;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet eval`: named evals against a base model or a sampler checkpoint, in process.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Base model directory", Required = true };
        var sets = new Option<string>("--set") { Description = $"Comma-separated: {string.Join(", ", Evaluator.Sets)}", DefaultValueFactory = _ => "arithmetic,instruction,nll" };
        var count = new Option<int>("--count", "-n") { DefaultValueFactory = _ => 100 };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A sampler checkpoint (whet://…/sampler_weights/…) to evaluate instead of the base model" };
        var data = new Option<string?>("--service-data") { Description = "The data directory holding that checkpoint (e.g. RUN_OUTPUT/service of `whet train sft`)" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "auto" };
        var device = DeviceOption.Create();
        var seed = new Option<long>("--seed");
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest greedy reply (4-digit multiplication needs ~110)", DefaultValueFactory = _ => Evaluator.DefaultMaxTokens };
        var command = new Command("eval", "Evaluate a base model or a sampler checkpoint on held-out tasks.") { model, sets, count, checkpoint, data, dtype, device, seed, maxTokens };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                var modelDirectory = Path.GetFullPath(result.GetValue(model)!);
                await using var core = await ServiceCore.CreateAsync(new ServerOptions
                {
                    ModelDirectories = [modelDirectory],
                    DataDirectory = result.GetValue(data) ?? Path.Combine(Path.GetTempPath(), "whet-eval-" + Guid.NewGuid().ToString("N")),
                    ComputeDtype = ComputeDtype.Parse(result.GetValue(dtype)!, computeDevice),
                    Device = computeDevice,
                });
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                var sampler = result.GetValue(checkpoint) is string path
                    ? await client.CreateSamplingClientAsync(modelPath: path, cancellationToken: cancellationToken)
                    : await client.CreateSamplingClientAsync(baseModel: Path.GetFileName(modelDirectory.TrimEnd('/')), cancellationToken: cancellationToken);
                var tokenizer = HuggingFaceTokenizer.Load(modelDirectory);
                foreach (var set in result.GetValue(sets)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    var report = await Evaluator.RunAsync(sampler, tokenizer, set, result.GetValue(count), result.GetValue(seed), result.GetValue(maxTokens), cancellationToken);
                    Console.WriteLine(report.Accuracy is double accuracy
                        ? $"{report.Set,-12} accuracy {accuracy:P1} over {report.Examples}"
                        : $"{report.Set,-12} NLL {report.Nll:F4} per answer token over {report.Examples}");
                    foreach (var sample in report.Samples) Console.WriteLine($"    {sample.ReplaceLineEndings(" ")}");
                }
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or WhetstoneApiException or FileNotFoundException)
            {
                return CommandErrors.Fail(CommandErrors.BadArguments, e.Message);
            }
        });
        return command;
    }
}
