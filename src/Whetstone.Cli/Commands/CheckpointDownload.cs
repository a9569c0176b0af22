using Spectre.Console;
using Whetstone.Client;

namespace Whetstone.Cli.Commands;

/// <summary>Writes a checkpoint's download (a zip) to a file: under a temporary name renamed when
/// complete, so a failed download leaves nothing under the final name; with a Spectre.Console
/// progress display when stdout is a terminal, silently otherwise.</summary>
internal static class CheckpointDownload
{
    public static async Task<long> ToFileAsync(RestClient rest, string path, CheckpointDownloadFormat format, string file, bool showProgress, CancellationToken ct)
    {
        var partial = file + ".partial";
        try
        {
            long bytes;
            await using (var source = await rest.DownloadCheckpointAsync(path, format, ct))
            await using (var target = File.Create(partial))
            {
                bytes = showProgress
                    ? await WithProgressAsync(source, target, $"{format.ToString().ToLowerInvariant()} {Path.GetFileName(file)}", ct)
                    : await CopyAsync(source, target, _ => { }, ct);
            }
            File.Move(partial, file, overwrite: true);
            return bytes;
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    /// <summary>The server builds the zip before it answers but sends no length through the SDK's
    /// stream, so the display counts bytes rather than a percentage.</summary>
    static Task<long> WithProgressAsync(Stream source, Stream target, string label, CancellationToken ct) =>
        // A console of its own on today's Console.Out (AnsiConsole.Console binds to the first one it saw).
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) }).Progress()
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(label, maxValue: double.MaxValue);
                task.IsIndeterminate = true;
                long total = await CopyAsync(source, target, copied => task.Value = copied, ct);
                task.MaxValue = Math.Max(total, 1);
                task.Value = task.MaxValue;
                task.StopTask();
                return total;
            });

    static async Task<long> CopyAsync(Stream source, Stream target, Action<long> progress, CancellationToken ct)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), ct);
            total += read;
            progress(total);
        }
        return total;
    }
}
