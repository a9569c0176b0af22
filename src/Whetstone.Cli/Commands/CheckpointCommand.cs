using System.CommandLine;
using System.Globalization;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cli.Commands;

/// <summary>`whet checkpoint list|info|publish|unpublish|delete|download|set-ttl`: the caller's
/// checkpoints (whet://&lt;run&gt;/weights|sampler_weights/&lt;name&gt;) on a running server.</summary>
internal static class CheckpointCommand
{
    public static Command Create()
    {
        var root = new Command("checkpoint", "Checkpoints of your runs (against a running `whet serve`).");

        var run = new Argument<string?>("run-id") { Description = "Only this run's checkpoints (default: every run of yours)", Arity = ArgumentArity.ZeroOrOne };
        root.Subcommands.Add(new ServerCommand("list", "Checkpoints: path, size, published, expiry.").Add(run)
            .SetAction(async (result, client, output, ct) =>
            {
                var all = new List<CheckpointInfo>();
                if (result.GetValue(run) is { } one) all.AddRange((await client.CreateRestClient().ListCheckpointsAsync(one, ct)).Checkpoints);
                else
                {
                    // Every run's checkpoints through list_user_checkpoints, page by page (newest first).
                    for (int offset = 0; ; offset += ListingRoutes.MaxLimit)
                    {
                        var page = await client.ListUserCheckpointsAsync(ListingRoutes.MaxLimit, offset, ct);
                        all.AddRange(page.Checkpoints);
                        if (offset + ListingRoutes.MaxLimit >= page.Cursor.TotalCount) break;
                    }
                }
                output.Write(new CheckpointList(all), list => list.Checkpoints.Count == 0 ? ["no checkpoints"] :
                    [$"{"PATH",-60} {"BYTES",12} {"PUBLISHED",9}  EXPIRES", .. list.Checkpoints.Select(Row)]);
            }));

        root.Subcommands.Add(WithPath("info", "One checkpoint.", (rest, path, ct) => rest.GetCheckpointAsync(path, ct)));
        root.Subcommands.Add(WithPath("publish", "Let other tenants sample, download and train from it.", async (rest, path, ct) =>
        {
            await rest.PublishCheckpointAsync(path, ct);
            return await rest.GetCheckpointAsync(path, ct);
        }));
        root.Subcommands.Add(WithPath("unpublish", "Make it yours alone again.", async (rest, path, ct) =>
        {
            await rest.UnpublishCheckpointAsync(path, ct);
            return await rest.GetCheckpointAsync(path, ct);
        }));

        var ttl = new Option<string>("--ttl") { Description = "Expire this long from now: seconds, or a number with s, m, h or d; 'none' keeps it until deleted", Required = true };
        root.Subcommands.Add(WithPath("set-ttl", "Let it expire after a time, or never.", async (rest, path, ct, result) =>
        {
            await rest.SetCheckpointTtlAsync(path, ParseTtl(result.GetValue(ttl)!), ct);
            return await rest.GetCheckpointAsync(path, ct);
        }, ttl));

        root.Subcommands.Add(DeleteCommand());
        root.Subcommands.Add(DownloadCommand());
        return root;
    }

    static Command DeleteCommand()
    {
        var path = PathArgument();
        return new ServerCommand("delete", "Delete it (its files and its record).").Add(path)
            .SetAction(async (result, client, output, ct) =>
            {
                await client.CreateRestClient().DeleteCheckpointAsync(result.GetValue(path)!, ct);
                output.Write(new Dictionary<string, string> { ["deleted"] = result.GetValue(path)! }, d => [$"deleted {d["deleted"]}"]);
            });
    }

    static Command DownloadCommand()
    {
        var path = PathArgument();
        var format = new Option<string>("--format") { Description = "peft (adapter), merged (HF weights) or gguf (llama.cpp), as a zip", DefaultValueFactory = _ => "peft" };
        var file = new Option<string>("--out", "-o") { Description = "The zip file to write", Required = true };
        return new ServerCommand("download", "Download it as PEFT, merged weights or GGUF (a zip).").Add(path).Add(format).Add(file)
            .SetAction(async (result, client, output, ct) =>
            {
                var kind = result.GetValue(format) switch
                {
                    "peft" => CheckpointDownloadFormat.Peft,
                    "merged" => CheckpointDownloadFormat.Merged,
                    "gguf" => CheckpointDownloadFormat.Gguf,
                    var other => throw new ArgumentException($"--format '{other}' is not one of peft, merged, gguf"),
                };
                string target = Path.GetFullPath(result.GetValue(file)!);
                bool progress = !output.Json && !Console.IsOutputRedirected;
                long bytes = await CheckpointDownload.ToFileAsync(client.CreateRestClient(), result.GetValue(path)!, kind, target, progress, ct);
                output.Write(new DownloadedCheckpoint(result.GetValue(path)!, result.GetValue(format)!, target, bytes),
                    d => [$"wrote {d.File} ({d.Bytes} bytes, {d.Format})"]);
            });
    }

    /// <summary>What `checkpoint download --json` prints.</summary>
    internal sealed record DownloadedCheckpoint(string Path, string Format, string File, long Bytes);

    static Command WithPath(string name, string description, Func<RestClient, string, CancellationToken, Task<CheckpointInfo>> action) =>
        WithPath(name, description, (rest, path, ct, _) => action(rest, path, ct));

    static Command WithPath(string name, string description, Func<RestClient, string, CancellationToken, ParseResult, Task<CheckpointInfo>> action, params Option[] options)
    {
        var path = PathArgument();
        var command = new ServerCommand(name, description).Add(path);
        foreach (var option in options) command.Add(option);
        return command.SetAction(async (result, client, output, ct) =>
            output.Write(await action(client.CreateRestClient(), result.GetValue(path)!, ct, result), Describe));
    }

    static Argument<string> PathArgument() => new("path") { Description = "The checkpoint's path, whet://<run>/weights|sampler_weights/<name>" };

    internal static TimeSpan? ParseTtl(string text)
    {
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        double unit = text.Length == 0 ? 0 : char.ToLowerInvariant(text[^1]) switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => 0 };
        string number = unit == 0 ? text : text[..^1];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || double.IsInfinity(value))
            throw new ArgumentException($"--ttl '{text}' is not a positive duration (seconds, or a number with s, m, h or d) nor 'none'");
        return TimeSpan.FromSeconds(value * (unit == 0 ? 1 : unit));
    }

    static string Row(CheckpointInfo c) => $"{c.Path,-60} {c.SizeBytes,12} {(c.Published ? "yes" : "no"),9}  {ServerCommand.When(c.ExpiresAt)}";

    static IEnumerable<string> Describe(CheckpointInfo c) =>
    [
        $"path       {c.Path}",
        $"run        {c.RunId}",
        $"kind       {c.Kind}",
        $"created    {ServerCommand.When(c.CreatedAt)}",
        $"bytes      {c.SizeBytes}",
        $"published  {(c.Published ? "yes" : "no")}",
        $"expires    {(c.ExpiresAt is null ? "never" : ServerCommand.When(c.ExpiresAt))}",
    ];
}
