using System.CommandLine;
using System.Globalization;
using Whetstone.Client;
using Whetstone.Cookbook.Rl;
using Whetstone.Engine.Runtime;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet train rl`: the RL recipe, run in process (the service core without HTTP).</summary>
internal static class TrainRlCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Base model directory", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output directory (metrics.jsonl, reward.png, eval.png, checkpoints; rerun to resume)", Required = true };
        var env = new Option<string>("--env") { Description = $"One of: {string.Join(", ", RlEnvironments.Names)}", DefaultValueFactory = _ => "arithmetic" };
        var minDigits = new Option<int>("--min-digits") { Description = "arithmetic: fewest digits per operand", DefaultValueFactory = _ => 4 };
        var maxDigits = new Option<int>("--max-digits") { Description = "arithmetic: most digits per operand", DefaultValueFactory = _ => 5 };
        var guessUpper = new Option<int>("--guess-upper") { Description = "guess-number: the secret is in 1..N", DefaultValueFactory = _ => 16 };
        var guessTurns = new Option<int>("--guess-turns") { Description = "guess-number: most guesses", DefaultValueFactory = _ => 5 };
        var formatPenalty = new Option<double>("--format-penalty") { DefaultValueFactory = _ => 0.1 };
        var rank = new Option<int>("--rank") { DefaultValueFactory = _ => 32 };
        var full = new Option<bool>("--full") { Description = "Full fine-tuning (every weight) instead of LoRA; --rank is then unused" };
        var lr = new Option<double>("--lr") { Description = "RL wants far less than pretraining (docs/results/rl-lora-works.md)", DefaultValueFactory = _ => 3e-4 };
        var groupSize = new Option<int>("--group-size") { Description = "Attempts per problem", DefaultValueFactory = _ => 8 };
        var groups = new Option<int>("--groups") { Description = "Problems per step", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 20 };
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 128 };
        var temperature = new Option<double>("--temperature") { DefaultValueFactory = _ => 1.0 };
        var loss = new Option<string>("--loss") { Description = "importance_sampling, ppo, cispo or dro", DefaultValueFactory = _ => "importance_sampling" };
        // Refused at parse time: otherwise a misspelt loss surfaces only at the first batch with
        // reward spread, and a run whose batches have none finishes without ever training.
        loss.AcceptOnlyFromAmong("importance_sampling", "ppo", "cispo", "dro");
        var lossConfig = new Option<string[]>("--loss-config") { Description = "key=value, e.g. clip_low_threshold=0.8 (repeatable)", AllowMultipleArgumentsPerToken = true };
        var tisCap = new Option<double?>("--tis-cap") { Description = "Truncated importance sampling: cap importance_sampling's ratios at C (loss_fn_config.tis_cap)" };
        var routingReplay = new Option<string>("--routing-replay") { Description = "MoE models: train on the experts the sampler chose (on) or let the learner route (off)", DefaultValueFactory = _ => "off" };
        routingReplay.AcceptOnlyFromAmong("on", "off");
        var attentionOnly = new Option<bool>("--attention-only") { Description = "LoRA on attention (and unembedding) only, not on MLPs or experts" };
        var kl = new Option<double>("--kl-penalty") { Description = "β of a KL penalty to the base model folded into the advantages" };
        var asyncMode = new Option<bool>("--async") { Description = "Sample the next batch while the current one trains" };
        var offPolicy = new Option<int>("--max-steps-off-policy") { Description = "Async: how stale a batch's sampler may be", DefaultValueFactory = _ => 1 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { DefaultValueFactory = _ => 10 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Greedy held-out eval every N steps (0: never)", DefaultValueFactory = _ => 10 };
        var evalCount = new Option<int>("--eval-count") { DefaultValueFactory = _ => 100 };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "auto" };
        var device = DeviceOption.Create();
        var seed = new Option<long>("--seed");
        var initFrom = new Option<string?>("--init-from") { Description = "Start from a saved training state (whet://…/weights/…, e.g. an SFT run's) with a fresh optimizer; same rank" };
        var serviceData = new Option<string?>("--service-data") { Description = "Service data directory (default OUT/service); for --init-from, the one holding that state (e.g. SFT_OUT/service)" };
        var command = new Command("rl", "Reinforcement learning on a verifiable env through the SDK (GRPO-style groups).")
        {
            model, output, env, minDigits, maxDigits, guessUpper, guessTurns, formatPenalty, rank, full, lr, groupSize, groups, steps, maxTokens,
            temperature, loss, lossConfig, kl, asyncMode, offPolicy, checkpointEvery, evalEvery, evalCount, dtype, device, seed,
            initFrom, serviceData, tisCap, routingReplay, attentionOnly,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                var modelDirectory = Path.GetFullPath(result.GetValue(model)!);
                var outputDirectory = result.GetValue(output)!;
                var options = new RlOptions
                {
                    BaseModel = Path.GetFileName(modelDirectory.TrimEnd('/')),
                    OutputDirectory = outputDirectory,
                    Env = result.GetValue(env)!, MinDigits = result.GetValue(minDigits), MaxDigits = result.GetValue(maxDigits),
                    GuessUpper = result.GetValue(guessUpper), GuessTurns = result.GetValue(guessTurns), FormatPenalty = result.GetValue(formatPenalty),
                    Rank = result.GetValue(rank), FullFineTuning = result.GetValue(full), LearningRate = result.GetValue(lr), GroupSize = result.GetValue(groupSize),
                    GroupsPerBatch = result.GetValue(groups), Steps = result.GetValue(steps), MaxTokens = result.GetValue(maxTokens),
                    Temperature = result.GetValue(temperature), LossFn = result.GetValue(loss)!, LossFnConfig = ParseConfig(result.GetValue(lossConfig)),
                    KlPenalty = result.GetValue(kl), Async = result.GetValue(asyncMode), MaxStepsOffPolicy = result.GetValue(offPolicy),
                    CheckpointEvery = result.GetValue(checkpointEvery), EvalEvery = result.GetValue(evalEvery), EvalCount = result.GetValue(evalCount),
                    Seed = result.GetValue(seed), InitFrom = result.GetValue(initFrom),
                    TisCap = result.GetValue(tisCap), RoutingReplay = result.GetValue(routingReplay) == "on", TrainMlp = !result.GetValue(attentionOnly),
                };
                await using var core = await ServiceCore.CreateAsync(new ServerOptions
                {
                    ModelDirectories = [modelDirectory],
                    DataDirectory = result.GetValue(serviceData) ?? Path.Combine(outputDirectory, "service"),
                    ComputeDtype = ComputeDtype.Parse(result.GetValue(dtype)!, computeDevice),
                    Device = computeDevice,
                });
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                var outcome = await RlRecipe.RunAsync(client, HuggingFaceTokenizer.Load(modelDirectory), options, Console.WriteLine, cancellationToken);
                Console.WriteLine($"reward {outcome.FirstReward:F3} → {outcome.LastReward:F3} (training batches)");
                if (outcome.InitialEval is not null || outcome.FinalEval is not null)
                    Console.WriteLine($"held-out greedy accuracy {outcome.InitialEval?.Accuracy:P1} → {outcome.FinalEval?.Accuracy:P1}");
                Console.WriteLine($"sampler checkpoint: {outcome.SamplerPath}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or FileNotFoundException or InvalidOperationException or WhetstoneApiException)
            {
                return CommandErrors.Fail(CommandErrors.BadArguments, e.Message);
            }
        });
        return command;
    }

    static Dictionary<string, double>? ParseConfig(string[]? pairs)
    {
        if (pairs is null || pairs.Length == 0) return null;
        var config = new Dictionary<string, double>();
        foreach (var pair in pairs)
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw new ArgumentException($"--loss-config '{pair}' is not key=number");
            config[parts[0]] = value;
        }
        return config;
    }
}
