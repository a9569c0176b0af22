using System.ClientModel;
using System.CommandLine;
using System.Text.Json;
using OpenAI;
using Whetstone.Client;
using Whetstone.Cookbook.SimulatedUsers;

namespace Whetstone.Cli.Commands;

/// <summary>`whet simulate-users`: a simulated population uses a model of a running server through
/// the OpenAI API and gives feedback; prints each round's hidden satisfaction (and writes every
/// answer as JSONL with --out).</summary>
internal static class SimulateUsersCommand
{
    public static Command Create()
    {
        var server = new ServerConnection();
        var model = new Option<string>("--model") { Description = "What the users ask (e.g. name@latest)", Required = true };
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 8 };
        var rounds = new Option<int>("--rounds") { DefaultValueFactory = _ => 10 };
        var drift = new Option<int?>("--drift-at") { Description = "Round at which every user's preferences shift (default: half way)" };
        var noFeedback = new Option<bool>("--no-feedback") { Description = "Only ask; give no feedback" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var outPath = new Option<string?>("--out") { Description = "JSONL of every answer with its hidden satisfaction" };
        var command = new Command("simulate-users", "Simulated users with hidden preferences use a served model and give feedback.")
        { model, users, rounds, drift, noFeedback, seed, outPath, LoopTuning.StatePreferences, LoopTuning.Taste };
        server.AddTo(command);
        command.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            var (url, key) = server.Resolve(result);
            using var whetstone = ServiceClient.Connect(url, key);
            var openAi = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(url, "v1") });
            var round = new SimulationRound(openAi, whetstone, statePreferences: result.GetValue(LoopTuning.StatePreferences));
            var population = new SimulatedPopulation(result.GetValue(users), result.GetValue(seed), LoopTuning.ParseTaste(result));
            int total = result.GetValue(rounds), driftAt = result.GetValue(drift) ?? total / 2;
            using var writer = result.GetValue(outPath) is { } p ? new StreamWriter(p) : null;
            for (int r = 0; r < total; r++)
            {
                if (r == driftAt) population.Drift();
                var answers = await round.RunAsync(population, result.GetValue(model)!, r, !result.GetValue(noFeedback), ct);
                Console.WriteLine($"round {r}: hidden satisfaction {SimulationRound.Format(answers.Average(a => a.Satisfaction))}" +
                    $"{(population.Drifted ? " (drifted)" : "")}, feedback events {answers.Sum(a => a.FeedbackEvents)}");
                foreach (var a in answers) writer?.WriteLine(JsonSerializer.Serialize(new { round = r, drifted = population.Drifted, a.User, a.Question, a.Answer, a.Satisfaction, a.CompletionId, a.FeedbackEvents }));
            }
            return 0;
        }));
        return command;
    }
}
