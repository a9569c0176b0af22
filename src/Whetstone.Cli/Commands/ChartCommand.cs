using System.CommandLine;
using Whetstone.Cookbook.Recipes;

namespace Whetstone.Cli.Commands;

/// <summary>`whet chart`: a PNG of any metrics of a recipe's metrics.jsonl against the step —
/// the same chart the recipes draw, for runs made before or elsewhere.</summary>
internal static class ChartCommand
{
    public static Command Create()
    {
        var metrics = new Argument<string>("metrics") { Description = "A metrics.jsonl written by a recipe" };
        var output = new Option<string>("--out", "-o") { Description = "PNG to write", Required = true };
        var names = new Option<string[]>("--metric", "-y") { Description = "Metric to draw (repeatable)", DefaultValueFactory = _ => ["loss"], AllowMultipleArgumentsPerToken = true };
        var title = new Option<string>("--title") { DefaultValueFactory = _ => "" };
        var yLabel = new Option<string>("--y-label") { DefaultValueFactory = _ => "value" };
        var command = new Command("chart", "Draw metrics.jsonl as a PNG line chart.") { metrics, output, names, title, yLabel };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var path = result.GetValue(metrics)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"metrics file '{path}' does not exist", path);
            var wanted = result.GetValue(names)!;
            if (!MetricsChart.WritePng(path, result.GetValue(output)!, result.GetValue(title)!, wanted, yLabel: result.GetValue(yLabel)!))
                return CommandErrors.Fail(CommandErrors.BadArguments, $"no line of '{path}' has any of: {string.Join(", ", wanted)}");
            Console.WriteLine($"wrote {result.GetValue(output)}");
            return 0;
        }));
        return command;
    }
}
