using System.CommandLine;
using System.Text.Json;
using Whetstone.Cookbook.Corpus;

namespace Whetstone.Cli.Commands;

/// <summary>`whet corpus`: write generated chat data as JSONL ({"messages": […], "task", "answer"}).</summary>
internal static class CorpusCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Required = true };
        var count = new Option<int>("--count", "-n") { DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed");
        var heldOut = new Option<bool>("--held-out") { Description = "Draw from the held-out split" };
        var tasks = new Option<string?>("--tasks") { Description = $"Comma-separated subset of: {string.Join(", ", CorpusGenerator.AllTasks)} (default: the pretraining mix {string.Join(", ", CorpusGenerator.Tasks)})" };
        var command = new Command("corpus", "Write deterministic chat data (arithmetic, instructions, stories, reading) as JSONL.")
        {
            output, count, seed, heldOut, tasks,
        };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var chosen = result.GetValue(tasks)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            using var writer = new StreamWriter(result.GetValue(output)!);
            foreach (var example in CorpusGenerator.Generate(result.GetValue(seed), result.GetValue(heldOut), chosen).Take(result.GetValue(count)))
                writer.WriteLine(JsonSerializer.Serialize(new
                {
                    messages = example.Messages.Select(m => new { role = m.Role, content = m.Content }),
                    task = example.Task,
                    answer = example.Answer,
                }));
            return 0;
        }));
        return command;
    }
}
