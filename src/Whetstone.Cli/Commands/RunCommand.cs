using System.CommandLine;
using Whetstone.Protocol;

namespace Whetstone.Cli.Commands;

/// <summary>`whet run list|info`: the training runs of the caller's tenant, on a running server.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var root = new Command("run", "Training runs of your tenant (against a running `whet serve`).");

        root.Subcommands.Add(new ServerCommand("list", "Your runs: id, base model, LoRA rank, last step and when it was last used.")
            .SetAction(async (result, client, output, ct) =>
            {
                var runs = await client.CreateRestClient().ListTrainingRunsAsync(ct);
                output.Write(runs, list => list.Runs.Count == 0 ? ["no runs"] :
                    [$"{"RUN",-24} {"BASE MODEL",-24} {"RANK",5} {"STEP",7}  LAST USED", .. list.Runs.Select(Row)]);
            }));

        var id = new Argument<string>("run-id") { Description = "The run's id (from `whet run list`)" };
        root.Subcommands.Add(new ServerCommand("info", "One run: its settings, step, times and last checkpoints.").Add(id)
            .SetAction(async (result, client, output, ct) =>
                output.Write(await client.CreateRestClient().GetTrainingRunAsync(result.GetValue(id)!, ct), Describe)));
        return root;
    }

    static string Row(TrainingRunInfo run) =>
        $"{run.RunId,-24} {run.BaseModel,-24} {Rank(run),5} {run.Step,7}  {ServerCommand.When(run.LastRequestAt ?? run.CreatedAt)}";

    static string Rank(TrainingRunInfo run) => run.FullFineTuning ? "full" : run.Rank?.ToString() ?? "-";

    static IEnumerable<string> Describe(TrainingRunInfo run)
    {
        yield return $"run              {run.RunId}";
        yield return $"base model       {run.BaseModel}";
        yield return run.FullFineTuning ? "training         full fine-tuning" : $"LoRA rank        {Rank(run)} (alpha {run.Alpha?.ToString() ?? "-"})";
        yield return $"trains           {string.Join(", ", new[] { ("attn", run.TrainAttn), ("mlp", run.TrainMlp), ("unembed", run.TrainUnembed) }.Where(t => t.Item2).Select(t => t.Item1))}";
        yield return $"step             {run.Step}";
        yield return $"created          {ServerCommand.When(run.CreatedAt)}";
        yield return $"last used        {ServerCommand.When(run.LastRequestAt)}";
        yield return $"last checkpoint  {run.LastCheckpoint ?? "-"}";
        yield return $"last sampler     {run.LastSamplerCheckpoint ?? "-"}";
    }
}
