using System.CommandLine;
using Whetstone.Protocol;

namespace Whetstone.Cli.Commands;

/// <summary>`whet deployment list|info|create|promote|rollback`: the caller's deployment aliases
/// (name@latest, name@vN) on a running server.</summary>
internal static class DeploymentCommand
{
    public static Command Create()
    {
        var root = new Command("deployment", "Deployment aliases of your tenant (against a running `whet serve`).");

        root.Subcommands.Add(new ServerCommand("list", "Your deployments: name, current version, versions, canary.")
            .SetAction(async (result, client, output, ct) =>
            {
                var list = new DeploymentList(await client.Deployments.ListAsync(ct));
                output.Write(list, l => l.Deployments.Count == 0 ? ["no deployments"] :
                    [$"{"NAME",-24} {"CURRENT",7} {"VERSIONS",8}  CANARY", .. l.Deployments.Select(Row)]);
            }));

        var name = NameArgument();
        root.Subcommands.Add(new ServerCommand("info", "One deployment with its versions.").Add(name)
            .SetAction(async (result, client, output, ct) => output.Write(await client.Deployments.GetAsync(result.GetValue(name)!, ct), Describe)));

        var createName = NameArgument();
        var firstCheckpoint = new Option<string?>("--checkpoint") { Description = "A sampler checkpoint (whet://…/sampler_weights/…) to be version 1" };
        root.Subcommands.Add(new ServerCommand("create", "Create a deployment, with version 1 when --checkpoint is given.").Add(createName).Add(firstCheckpoint)
            .SetAction(async (result, client, output, ct) =>
                output.Write(await client.Deployments.CreateAsync(result.GetValue(createName)!, result.GetValue(firstCheckpoint), ct), Describe)));

        var promoteName = NameArgument();
        var checkpoint = new Option<string>("--checkpoint") { Description = "The sampler checkpoint that becomes the next version", Required = true };
        root.Subcommands.Add(new ServerCommand("promote", "Add a version and point name@latest at it.").Add(promoteName).Add(checkpoint)
            .SetAction(async (result, client, output, ct) =>
                output.Write(await client.Deployments.PromoteAsync(result.GetValue(promoteName)!, result.GetValue(checkpoint)!, ct), Describe)));

        var rollbackName = NameArgument();
        var version = new Option<int?>("--version") { Description = "The version name@latest answers with (default: the one before the current)" };
        root.Subcommands.Add(new ServerCommand("rollback", "Point name@latest at an earlier version.").Add(rollbackName).Add(version)
            .SetAction(async (result, client, output, ct) =>
                output.Write(await client.Deployments.RollbackAsync(result.GetValue(rollbackName)!, result.GetValue(version), ct), Describe)));
        return root;
    }

    static Argument<string> NameArgument() => new("name") { Description = "The deployment's name" };

    static string Row(DeploymentInfo d) =>
        $"{d.Name,-24} {"v" + d.CurrentVersion,7} {d.Versions.Count,8}  {(d.CandidateVersion is { } c ? $"v{c} at {d.CandidatePercent}%" : "-")}";

    static IEnumerable<string> Describe(DeploymentInfo d)
    {
        yield return $"deployment  {d.Name}";
        yield return $"current     v{d.CurrentVersion} ({d.Name}@latest)";
        if (d.CandidateVersion is { } candidate) yield return $"canary      v{candidate} gets {d.CandidatePercent}% of {d.Name}@latest";
        yield return $"created     {ServerCommand.When(d.CreatedAt)}";
        foreach (var v in d.Versions)
            yield return $"  {(v.Version == d.CurrentVersion ? "*" : " ")} v{v.Version,-4} {ServerCommand.When(v.CreatedAt)}  {v.Checkpoint}";
    }
}
