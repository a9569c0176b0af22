using System.CommandLine;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.SimulatedUsers;
using Whetstone.Protocol;

namespace Whetstone.Cli.Commands;

/// <summary>`whet loop create|status|pause|resume|lineage|demo|experiment` against a running server.</summary>
internal static class LoopCommand
{
    public static Command Create()
    {
        var root = new Command("loop", "Experiential loops on deployments (against a running `whet serve`).");
        root.Subcommands.Add(CreateCommand());
        root.Subcommands.Add(Simple("status", "A loop's state, or every loop's without an id.", async (client, id, ct) =>
        {
            if (id is null) Print(await client.Loops.ListAsync(ct));
            else Print(await client.Loops.GetAsync(id, ct));
        }, optionalId: true));
        root.Subcommands.Add(Simple("pause", "Pause a loop (its deployment keeps its last promoted version).", async (client, id, ct) =>
            Print(await client.Loops.PauseAsync(id!, ct))));
        root.Subcommands.Add(Simple("resume", "Resume a paused loop.", async (client, id, ct) => Print(await client.Loops.ResumeAsync(id!, ct))));
        root.Subcommands.Add(Simple("lineage", "Feedback → reward model → policy → deployment version, per iteration.", async (client, id, ct) =>
            Print(await client.Loops.LineageAsync(id!, ct))));
        root.Subcommands.Add(DemoCommand());
        root.Subcommands.Add(LoopExperimentCommand.Create());
        return root;
    }

    static Command CreateCommand()
    {
        var server = new ServerConnection();
        var deployment = new Option<string>("--deployment") { Description = "The deployment to improve", Required = true };
        var every = new Option<int?>("--every-feedback") { Description = "Start an iteration every N new feedback events", DefaultValueFactory = _ => 20 };
        var minutes = new Option<double?>("--every-minutes") { Description = "…or every T minutes (with new feedback)" };
        var steps = new Option<int>("--steps") { Description = "RL steps per iteration", DefaultValueFactory = _ => 2 };
        var lr = new Option<double>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => 1e-4 };
        var kl = new Option<double>("--kl") { Description = "KL penalty to the deployed policy", DefaultValueFactory = _ => 0.05 };
        var canary = new Option<double>("--canary-percent") { Description = "Share of name@latest for the candidate (0: no canary)", DefaultValueFactory = _ => 20 };
        var minEvents = new Option<int>("--canary-events") { Description = "Feedback events per arm before the canary decides", DefaultValueFactory = _ => 10 };
        var split = new Option<string>("--canary-split") { Description = "request: each request routed on its own (a user's reach both arms); user: each user on one arm", DefaultValueFactory = _ => LoopCanarySettings.SplitByRequest };
        var compare = new Option<string>("--canary-compare") { Description = "within_user: each user's own candidate − stable difference, counted by user (needs --canary-split request and the requests' `user`); events: every event independent", DefaultValueFactory = _ => LoopCanarySettings.CompareWithinUser };
        var suite = new Option<string?>("--regression-suite") { Description = "JSON file: [{\"prompt\": …, \"expect_contains\": …}, …]" };
        var settings = new Option<string?>("--settings") { Description = "JSON file with the whole create request (overrides the options above)" };
        var command = new Command("create", "Create a loop on one of your deployments.") { deployment, every, minutes, steps, lr, kl, canary, minEvents, split, compare, suite, settings };
        server.AddTo(command);
        command.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            using var client = server.Connect(result);
            var request = result.GetValue(settings) is { } file
                ? JsonSerializer.Deserialize<CreateLoopRequest>(File.ReadAllText(file), ProtocolJson.Options)!
                : new CreateLoopRequest(result.GetValue(deployment)!)
                {
                    Trigger = new LoopTrigger { EveryFeedback = result.GetValue(every), EveryMinutes = result.GetValue(minutes) },
                    Rl = new LoopRlSettings { Steps = result.GetValue(steps), LearningRate = result.GetValue(lr), KlCoef = result.GetValue(kl) },
                    Gate = new LoopGateSettings
                    {
                        RegressionSuite = result.GetValue(suite) is { } s ? JsonSerializer.Deserialize<RegressionCheck[]>(File.ReadAllText(s), ProtocolJson.Options) : null,
                    },
                    Canary = new LoopCanarySettings
                    {
                        Percent = result.GetValue(canary), MinEvents = result.GetValue(minEvents), Split = result.GetValue(split)!, Compare = result.GetValue(compare)!,
                    },
                };
            Print(await client.Loops.CreateAsync(request with { Deployment = result.GetValue(deployment)! }, ct));
            return 0;
        }));
        return command;
    }

    static Command DemoCommand()
    {
        var server = new ServerConnection();
        var model = new Option<string>("--base-model") { Description = "A base model the server serves", Required = true };
        var users = new Option<int>("--users") { Description = "Simulated users", DefaultValueFactory = _ => 12 };
        var rounds = new Option<int>("--max-rounds") { Description = "Rounds before giving up on a promotion", DefaultValueFactory = _ => 400 };
        var minutes = new Option<double>("--budget-minutes") { Description = "Time before giving up on a promotion", DefaultValueFactory = _ => 6 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var defaults = ExperientialLoopDemo.DefaultLoop("").Rl!;
        var lr = new Option<double>("--lr") { Description = "The loop's RL learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var steps = new Option<int>("--steps") { Description = "RL steps per iteration", DefaultValueFactory = _ => defaults.Steps };
        var sftWeight = new Option<double>("--sft-weight") { Description = "Weight per token of the users' corrections as SFT (0: none)", DefaultValueFactory = _ => defaults.CorrectionSftWeight };
        var command = new Command("demo", "Deploy a fresh adapter with a reward model and a loop, let simulated users use it until a candidate is promoted, " +
            "and print their hidden satisfaction before and after with the lineage.") { model, users, rounds, minutes, seed, lr, steps, sftWeight, LoopTuning.StatePreferences, LoopTuning.Settings, LoopTuning.EditCorrections, LoopTuning.Taste };
        server.AddTo(command);
        command.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            var (url, key) = server.Resolve(result);
            var demo = new ExperientialLoopDemo(url, key, Console.Out);
            var outcome = await demo.RunAsync(result.GetValue(model)!, new LoopDemoOptions
            {
                Users = result.GetValue(users), MaxRounds = result.GetValue(rounds), Budget = TimeSpan.FromMinutes(result.GetValue(minutes)), Seed = result.GetValue(seed),
                Loop = LoopTuning.Load(result) ?? ExperientialLoopDemo.DefaultLoop("") with
                {
                    Rl = defaults with { LearningRate = result.GetValue(lr), Steps = result.GetValue(steps), CorrectionSftWeight = result.GetValue(sftWeight) },
                },
                StatePreferences = result.GetValue(LoopTuning.StatePreferences), EditCorrections = result.GetValue(LoopTuning.EditCorrections), Taste = LoopTuning.ParseTaste(result),
            }, ct);
            return outcome.ExitCode;
        }));
        return command;
    }

    static Command Simple(string name, string description, Func<ServiceClient, string?, CancellationToken, Task> action, bool optionalId = false)
    {
        var server = new ServerConnection();
        var id = new Argument<string?>("loop-id") { Description = "The loop's id", Arity = optionalId ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne };
        var command = new Command(name, description) { id };
        server.AddTo(command);
        command.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            using var client = server.Connect(result);
            await action(client, result.GetValue(id), ct);
            return 0;
        }));
        return command;
    }

    static void Print<T>(T value) => Console.WriteLine(JsonSerializer.Serialize(value, new JsonSerializerOptions(ProtocolJson.Options) { WriteIndented = true }));
}
