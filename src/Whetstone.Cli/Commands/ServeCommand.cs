using System.CommandLine;
using Whetstone.Engine.Runtime;
using Whetstone.Service.Hosting;

namespace Whetstone.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--models") { Description = "Model directories to serve (default: every model under ./models)", AllowMultipleArgumentsPerToken = true };
        var data = new Option<string>("--data") { Description = "Data directory: checkpoints and the SQLite database", DefaultValueFactory = _ => ".data" };
        var db = new Option<string?>("--db") { Description = "Metadata database: omit for SQLite under --data; or a PostgreSQL connection string" };
        var urls = new Option<string>("--urls") { Description = "Listen address(es), ';'-separated", DefaultValueFactory = _ => "http://127.0.0.1:8000" };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype: fp32, bf16 or auto (bf16 on a GPU)", DefaultValueFactory = _ => "auto" };
        var device = DeviceOption.Create();
        var queue = new Option<int>("--queue-capacity") { Description = "Queued calls per base model before 429", DefaultValueFactory = _ => 1024 };
        var adapterCache = new Option<int>("--adapter-cache-mb") { Description = "Memory for adapters loaded by /v1 requests; idle ones past it are evicted, least recently used first", DefaultValueFactory = _ => 1024 };
        var (cluster, role, siloPort, primaryPort, advertise) = ClusterServeOptions.Create();
        var command = new Command("serve", "Run the training API (Tinker-style) and the OpenAI-compatible API (/v1) on the given base models. "
            + "By default the process is a one-silo Orleans cluster on localhost (gateway and worker, on a free silo port); --cluster none starts no silo.")
        {
            models, data, db, urls, dtype, device, queue, adapterCache, cluster, role, siloPort, primaryPort, advertise,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            StartupTrace.Mark("whet serve parsed its arguments");
            var directories = result.GetValue(models) is { Length: > 0 } given ? given : DefaultModels();
            if (directories.Length == 0)
                return CommandErrors.Fail(CommandErrors.BadArguments, "no models to serve: pass --models DIR (make one with `whet init-model`)");
            ServerOptions options;
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                options = new ServerOptions
                {
                    Device = computeDevice,
                    ModelDirectories = directories,
                    DataDirectory = result.GetValue(data)!,
                    Database = result.GetValue(db),
                    Urls = result.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries),
                    ComputeDtype = ComputeDtype.Parse(result.GetValue(dtype)!, computeDevice),
                    QueueCapacity = result.GetValue(queue),
                    AdapterCacheBytes = result.GetValue(adapterCache) >= 1 ? result.GetValue(adapterCache) * (1L << 20)
                        : throw new ArgumentException($"--adapter-cache-mb: {result.GetValue(adapterCache)} must be at least 1"),
                    AdminKey = Environment.GetEnvironmentVariable("WHET_ADMIN_KEY"),
                };
            }
            catch (ArgumentException e) { return CommandErrors.Fail(CommandErrors.BadArguments, e.Message); }
            if (!string.Equals(result.GetValue(cluster), "none", StringComparison.OrdinalIgnoreCase))
                return await ClusterServeOptions.RunAsync(result, options, cluster, role, siloPort, primaryPort, advertise, cancellationToken);
            await using var server = await WhetstoneServer.StartAsync(options);
            if (server.CreatedAdminKey is string key)
                Console.WriteLine($"admin API key (shown once; set WHET_ADMIN_KEY to choose your own): {key}");
            Console.WriteLine($"whetstone serving {string.Join(", ", directories.Select(Path.GetFileName))} on {string.Join(", ", server.Urls)} (data: {Path.GetFullPath(options.DataDirectory)})");
            // The host stops on SIGTERM / Ctrl+C itself; the command line's token covers the rest.
            await Task.WhenAny(server.WaitForShutdownAsync(), Task.Delay(Timeout.Infinite, cancellationToken));
            return 0;
        });
        return command;
    }

    static string[] DefaultModels() => Directory.Exists("models")
        ? Directory.GetDirectories("models").Where(d => File.Exists(Path.Combine(d, "config.json"))).Order().ToArray()
        : [];
}
