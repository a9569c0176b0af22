using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Orleans.TestingHost;
using Whetstone.Client;
using Whetstone.Engine.ModelMaker;
using Whetstone.Service.Cluster;
using Whetstone.Service.Hosting;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>An Orleans test cluster in this process: silo 0 is a gateway (no models; its HTTP app
/// is served in memory and sends run calls to the grains), each further silo a worker hosting the
/// base models it is given. All silos share one data directory and SQLite database, as cluster
/// machines share a checkpoint mount and PostgreSQL.</summary>
internal sealed class TestWorkers : IAsyncDisposable
{
    public const string ModelA = TestServers.ModelName;
    public const string ModelB = "tiny-b";

    static readonly Lazy<string> ModelBDirectory = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-service-tests", "models", ModelB);
        if (!File.Exists(Path.Combine(directory, "config.json")))
            RandomModelWriter.Write(directory, new RandomModelSpec { HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 256, Seed = 9 });
        return directory;
    });

    // Silo name → its core; the cores in silo order (0: the gateway), made one at a time (their
    // store migrations must not race on the shared database).
    readonly Dictionary<string, ServiceCore> _cores;
    readonly IReadOnlyList<ServiceCore> _ordered;
    readonly List<ServiceCore> _stopped = [];

    public InProcessTestCluster Cluster { get; }
    public string DataDirectory { get; }
    public ServiceCore Gateway => _ordered[0];

    TestWorkers(InProcessTestCluster cluster, string dataDirectory, Dictionary<string, ServiceCore> cores, IReadOnlyList<ServiceCore> ordered)
    {
        Cluster = cluster;
        DataDirectory = dataDirectory;
        _cores = cores;
        _ordered = ordered;
    }

    public static string Directory(string model) => model == ModelB ? ModelBDirectory.Value : TestServers.Model;

    public static ServerOptions Options(string dataDirectory, params string[] models) => new()
    {
        ModelDirectories = models.Select(Directory).ToArray(),
        DataDirectory = dataDirectory,
        LoopTickInterval = TimeSpan.Zero,
        ExpirySweepInterval = TimeSpan.FromMilliseconds(200),
    };

    /// <param name="workers">The base models of each worker silo (silos 1, 2, …).</param>
    public static Task<TestWorkers> StartAsync(params string[][] workers) => StartAsync(TimeSpan.Zero, workers);

    /// <param name="loopTick">How often every silo asks for the loop tick (zero: loops stay still).</param>
    public static async Task<TestWorkers> StartAsync(TimeSpan loopTick, params string[][] workers)
    {
        var data = TestServers.NewDataDirectory();
        var ordered = new List<ServiceCore>();
        foreach (var models in workers.Prepend([]))
            ordered.Add(await ServiceCore.CreateAsync(Options(data, models)));
        var cores = new Dictionary<string, ServiceCore>();
        int configured = 0;
        var builder = new InProcessTestClusterBuilder((short)(workers.Length + 1));
        builder.ConfigureSilo((silo, orleans) =>
        {
            ServiceCore core;
            int index;
            lock (cores)
            {
                index = configured++;
                core = cores[silo.SiloName] = ordered[index];
            }
            orleans.AddWhetstone(core, index == 0 ? ClusterRole.Gateway : ClusterRole.Worker, TimeSpan.FromMilliseconds(200), postgres: null, loopTick);
        });
        builder.ConfigureClient(client => client.Services.AddProtocolSerializer());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var workersUp = new TestWorkers(cluster, data, cores, ordered);
        // The gateway, and any other silo given no model, answers as `whet serve --role gateway` does.
        for (int i = 0; i < ordered.Count; i++)
        {
            if (i > 0 && workers[i - 1].Length > 0) continue;
            var gateway = ordered[i];
            var grains = workersUp.Handle(i).ServiceProvider.GetRequiredService<IGrainFactory>();
            gateway.RunCalls = new ClusterRunCalls(grains, gateway.Context);
            gateway.CompletionCalls = new ClusterCompletionCalls(grains, gateway);
            gateway.SamplingCalls = new ClusterSamplingCalls(grains, gateway.Context);
            gateway.ClusterMetrics = new ClusterMetrics(grains, workersUp.Handle(i).ServiceProvider.GetRequiredService<IClusterMembershipService>());
        }
        await workersUp.WaitForReportsAsync(workers.SelectMany(m => m).Distinct().ToArray());
        return workersUp;
    }

    /// <summary>The gateway silo's grain factory (as the HTTP app of `whet serve --role gateway` has).</summary>
    public IGrainFactory GrainFactory => Handle(0).ServiceProvider.GetRequiredService<IGrainFactory>();

    InProcessSiloHandle Handle(int index) => Cluster.Silos.Single(s => _cores[s.Name] == _ordered[index]);

    public async Task<ServiceClient> ClientAsync(string tenant) => ServiceClient.Connect(await Gateway.InMemoryClientAsync(tenant));

    public ServiceCore CoreOf(SiloAddress silo) => _cores[Cluster.Silos.Single(s => s.SiloAddress.Equals(silo)).Name];

    public SiloAddress SiloOf(int index) => Handle(index).SiloAddress;

    /// <summary>The service core of silo <paramref name="index"/> (0: the gateway).</summary>
    public ServiceCore CoreAt(int index) => _ordered[index];

    public Task<SiloAddress> WhereAsync(string model, string runId) => GrainFactory.GetGrain<IRunGrain>(RunGrainKey.Of(model, runId)).Where();

    /// <summary>Stops the silo (its grains deactivate) and then its core, as when the machine goes:
    /// nothing of the runs it held stays in memory anywhere.</summary>
    public async Task StopAsync(SiloAddress silo)
    {
        var handle = Cluster.Silos.Single(s => s.SiloAddress.Equals(silo));
        var core = _cores[handle.Name];
        await Cluster.StopSiloAsync(handle);
        await core.DisposeAsync();
        _stopped.Add(core);
    }

    /// <summary>Kills the silo at once (no deactivation, as kill -9 of its process): the rest of the
    /// cluster learns of it from membership. Its core stays up until the end (disposed then).</summary>
    public Task KillAsync(SiloAddress silo) => Cluster.KillSiloAsync(Cluster.Silos.Single(s => s.SiloAddress.Equals(silo)));

    /// <summary>The silo whose core's meter has the tag <paramref name="meterSilo"/>.</summary>
    public SiloAddress SiloOfMeter(string meterSilo) =>
        Cluster.Silos.Single(s => _cores[s.Name].Context.Meter.Silo == meterSilo).SiloAddress;

    /// <summary>The meter tags of the worker silos (1, 2, …).</summary>
    public IEnumerable<string> WorkerMeterSilos => _ordered.Skip(1).Select(c => c.Context.Meter.Silo);

    async Task WaitForReportsAsync(string[] models)
    {
        var directory = GrainFactory.GetGrain<IBaseModelDirectoryGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (var model in models)
            while ((await directory.Hosts(model)).Length == 0)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"no worker reported {model}");
                await Task.Delay(100);
            }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        foreach (var core in _cores.Values.Except(_stopped)) await core.DisposeAsync();
    }
}
