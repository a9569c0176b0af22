using System.CommandLine;
using Whetstone.Cookbook.LoadTest;

namespace Whetstone.Cli.Commands;

/// <summary>`whet load-test`: concurrent clients train, sample and use /v1 on a running server for a
/// while, then their own logs of acknowledged optimizer steps are compared with the server's. Exits
/// 0 only with no error but 429s and no lost or duplicated step; 1 otherwise.</summary>
internal static class LoadTestCommand
{
    public static Command Create()
    {
        var server = new ServerConnection();
        var model = new Option<string>("--model") { Description = "Base model every client trains and samples", DefaultValueFactory = _ => "whet-nano" };
        var clients = new Option<int>("--clients") { DefaultValueFactory = _ => 32 };
        var minutes = new Option<double>("--minutes") { Description = "How long the clients start new work", DefaultValueFactory = _ => 10 };
        var drain = new Option<double>("--drain-seconds") { Description = "Time to finish work in flight before it is cut off", DefaultValueFactory = _ => 120 };
        var log = new Option<string>("--log") { Description = "Directory for the clients' own logs (client-NN.jsonl)", DefaultValueFactory = _ => "load-test-logs" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var command = new Command("load-test", "Concurrent clients train, sample and use /v1; counts errors and lost or duplicated optimizer steps.")
        { model, clients, minutes, drain, log, seed };
        server.AddTo(command);
        command.SetAction((result, _) => CommandErrors.RunAsync(async () =>
        {
            var (url, key) = server.Resolve(result);
            var settings = new LoadTestSettings(url, key, result.GetValue(model)!, result.GetValue(clients),
                TimeSpan.FromMinutes(result.GetValue(minutes)), Path.GetFullPath(result.GetValue(log)!))
            {
                Drain = TimeSpan.FromSeconds(result.GetValue(drain)),
                Seed = result.GetValue(seed),
            };
            var report = await LoadTestRun.RunAsync(settings, line => Console.Error.WriteLine(line));
            Console.Write(report.Format());
            return report.Passed ? 0 : 1;
        }));
        return command;
    }
}
