using System.CommandLine;
using Whetstone.Client;
using Whetstone.Cookbook.Corpus;
using Whetstone.Cookbook.Recipes;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Runtime;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet pretrain`: a tokenizer learned on the corpus, a random Qwen3 model of a preset
/// shape, full-parameter pretraining through the SDK (in process), the result as a Hugging Face
/// directory in OUT/model. Rerun the same command to resume.</summary>
internal static class PretrainCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "Output directory (init/, service/, metrics.jsonl, model/)", Required = true };
        var preset = new Option<string>("--preset") { Description = "nano (~2M) or micro (~10M) or any RandomModelSpec preset", DefaultValueFactory = _ => "nano" };
        var merges = new Option<int>("--merges") { Description = "Tokenizer merges to learn", DefaultValueFactory = _ => 1500 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 2000 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 16 };
        var length = new Option<int>("--seq-len") { DefaultValueFactory = _ => 256 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 3e-3 };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 100 };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype: fp32, bf16 (fp32 master weights take the updates) or auto (bf16 where a start-up probe finds it faster)", DefaultValueFactory = _ => "auto" };
        var device = DeviceOption.Create();
        var seed = new Option<long>("--seed");
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop with a checkpoint after this step; the same command later continues" };
        var command = new Command("pretrain", "Pretrain a small Qwen3-architecture model on the generated corpus.")
        {
            output, preset, merges, steps, batch, length, lr, warmup, dtype, device, seed, stopAfter,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                var outputDirectory = Path.GetFullPath(result.GetValue(output)!);
                var init = Path.Combine(outputDirectory, "init");
                if (!File.Exists(Path.Combine(init, "config.json")))
                {
                    var texts = CorpusGenerator.Generate(result.GetValue(seed), heldOut: false).Take(20000).SelectMany(e => e.Messages.Select(m => m.Content));
                    var learned = ByteLevelBpeTrainer.LearnMerges(texts, result.GetValue(merges), ByteLevelTokenizerStyle.ChatMl);
                    var shape = RandomModelSpec.Preset(result.GetValue(preset)!);
                    // Dense presets pretrain as Qwen3; MoE/MLA presets keep their family (moe-nano: DeepSeek-V3 / kimi_k2).
                    var family = shape.Moe is null && shape.Mla is null ? Engine.Models.ModelFamily.Qwen3 : shape.Family;
                    var spec = shape with { Merges = learned, Seed = result.GetValue(seed), Family = family };
                    RandomModelWriter.Write(init, spec);
                    Console.WriteLine($"initialised {result.GetValue(preset)} with a {learned.Count}-merge tokenizer in {init}");
                }
                await using var core = await InProcessService.StartAsync([init], outputDirectory, result.GetValue(dtype)!, computeDevice);
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                var options = new PretrainOptions
                {
                    BaseModel = "init", OutputDirectory = outputDirectory, Steps = result.GetValue(steps), BatchSize = result.GetValue(batch),
                    SequenceLength = result.GetValue(length), PeakLearningRate = result.GetValue(lr), WarmupSteps = result.GetValue(warmup),
                    Seed = result.GetValue(seed), CheckpointEvery = Math.Max(50, result.GetValue(steps) / 8), StopAfter = result.GetValue(stopAfter),
                };
                var outcome = await PretrainRecipe.RunAsync(client, HuggingFaceTokenizer.Load(init), options, Console.WriteLine, cancellationToken);
                if (outcome.SamplerPath.Length == 0) return 0;   // stopped early; rerun to continue
                var model = await WholeModelDownload.ToDirectoryAsync(client, outcome.SamplerPath, outputDirectory, cancellationToken);
                Console.WriteLine($"final loss {outcome.FinalLoss:F4} per token after {outcome.TokensSeen:N0} tokens; model: {model}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or WhetstoneApiException or IOException)
            {
                return CommandErrors.Fail(CommandErrors.BadArguments, e.Message);
            }
        });
        return command;
    }
}
