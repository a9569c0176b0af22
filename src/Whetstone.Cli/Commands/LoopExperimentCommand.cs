using System.CommandLine;
using Whetstone.Cookbook.Recipes;
using Whetstone.Cookbook.SimulatedUsers;

namespace Whetstone.Cli.Commands;

/// <summary>`whet loop experiment`: the three-arm experiment (<see cref="LoopExperiment"/>) against a
/// running server, its data and charts written under --out.</summary>
internal static class LoopExperimentCommand
{
    public static Command Create()
    {
        var server = new ServerConnection();
        var model = new Option<string>("--base-model") { Description = "A base model the server serves", Required = true };
        var arms = new Option<string>("--arms") { Description = "Arms to run, of a (no loop), b (reward model frozen after its first trained iteration), c (streaming)", DefaultValueFactory = _ => "a,b,c" };
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 12 };
        var rounds = new Option<int>("--rounds") { DefaultValueFactory = _ => 12 };
        var driftAt = new Option<int>("--drift-at") { Description = "The round the population's preferences shift", DefaultValueFactory = _ => 6 };
        var every = new Option<int>("--every-feedback") { Description = "Feedback events per loop iteration", DefaultValueFactory = _ => 24 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var canaryWait = new Option<double>("--canary-wait-minutes") { Description = "Longest a round waits for a canary, feeding it extra uncounted rounds (0: rounds go on during a canary)", DefaultValueFactory = _ => 4 };
        var outDir = new Option<string>("--out") { Description = "Directory for rounds.jsonl, prequential.jsonl, iterations.jsonl, summary.json and the charts", Required = true };
        var command = new Command("experiment", "Hidden satisfaction of a simulated population over rounds with a drift, for no loop, a frozen reward model and the streaming loop.")
        {
            model, arms, users, rounds, driftAt, every, seed, canaryWait, outDir, LoopTuning.StatePreferences, LoopTuning.Settings, LoopTuning.EditCorrections, LoopTuning.Taste,
        };
        server.AddTo(command);
        command.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            var (url, key) = server.Resolve(result);
            if (!(result.GetValue(canaryWait) is >= 0 and <= 60)) throw new ArgumentException($"--canary-wait-minutes {result.GetValue(canaryWait)} must be 0 to 60");
            var options = new LoopExperimentOptions
            {
                Arms = result.GetValue(arms)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Users = result.GetValue(users), Rounds = result.GetValue(rounds), DriftAtRound = result.GetValue(driftAt),
                EveryFeedback = result.GetValue(every), Seed = result.GetValue(seed), MaxCanaryWait = TimeSpan.FromMinutes(result.GetValue(canaryWait)),
                StatePreferences = result.GetValue(LoopTuning.StatePreferences), EditCorrections = result.GetValue(LoopTuning.EditCorrections), Taste = LoopTuning.ParseTaste(result), Loop = LoopTuning.Load(result),
            };
            var outcome = await new LoopExperiment(url, key, Console.Out).RunAsync(result.GetValue(model)!, options, ct);
            string dir = result.GetValue(outDir)!;
            LoopExperiment.Write(outcome, dir);
            var names = options.Arms;
            MetricsChart.WritePng(Path.Combine(dir, "rounds.jsonl"), Path.Combine(dir, "satisfaction.png"),
                $"hidden satisfaction per round (3-round mean), drift at round {options.DriftAtRound}", names.Select(a => $"mean3_{a}").ToArray(), "round", "satisfaction");
            MetricsChart.WritePng(Path.Combine(dir, "prequential.jsonl"), Path.Combine(dir, "prequential.png"),
                "reward model prequential accuracy (cumulative)", names.Where(a => a != "a").Select(a => $"cumulative_accuracy_{a}").ToArray(), "cumulative_predicted", "accuracy");
            Console.WriteLine(File.ReadAllText(Path.Combine(dir, "summary.json")));
            return 0;
        }));
        return command;
    }
}
