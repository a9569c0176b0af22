using Microsoft.Extensions.Logging;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Hosting;

/// <summary>The service without its HTTP layer: metadata store, base models, planners and engine
/// workers, and the run, sampling and checkpoint services. The web server and the in-memory
/// server both serve the same app (<see cref="WhetstoneApp"/>) over one of these, so they behave the same.</summary>
public sealed class ServiceCore : IAsyncDisposable
{
    internal ServiceContext Context { get; }
    internal TrainingRunService Runs { get; }
    /// <summary>Where the training routes send run calls: <see cref="Runs"/>, or in a cluster the run grains.</summary>
    internal IRunCalls RunCalls { get; set; }
    /// <summary>Who answers /v1 completions: this process, or a cluster's workers (set by the cluster).</summary>
    internal OpenAi.ICompletionCalls CompletionCalls { get; set; }
    /// <summary>How often expired checkpoints are swept (the server's or, in a cluster, one silo's job).</summary>
    internal TimeSpan ExpirySweepInterval { get; private set; } = TimeSpan.FromMinutes(1);
    internal SamplingSessionService Sessions { get; }
    /// <summary>Where the sampling-session routes send calls: <see cref="Sessions"/>, or in a cluster the sampler grains.</summary>
    internal ISamplingCalls SamplingCalls { get; set; }
    /// <summary>Whose series /metrics/cluster serves: this server's, or in a cluster every silo's.</summary>
    internal Observability.IClusterMetrics ClusterMetrics { get; set; }
    internal FullModelSamplers FullModels { get; }
    internal CheckpointService Checkpoints { get; }
    internal Serving.AdapterCache Adapters { get; }
    internal Serving.DeploymentService Deployments { get; }
    internal Serving.FeedbackService Feedback { get; }
    internal OpenAi.OpenAiCompletionService Completions { get; }
    internal Loops.LoopService Loops { get; }
    Loops.LoopRunner? _loopRunner;
    internal Experience.RewardModels.RewardModelService RewardModels { get; }
    readonly Experience.RewardModels.RewardModelBackground _rewardModelUpdates;
    internal Memory.MemoryService Memories { get; }
    public IMetadataStore Store => Context.Store;

    readonly SemaphoreSlim _inMemoryStart = new(1, 1);
    InMemoryServer? _inMemory;

    /// <summary>This core's app served in memory, started on first use and stopped with the core.</summary>
    public async Task<InMemoryServer> InMemoryAsync()
    {
        await _inMemoryStart.WaitAsync();
        try { return _inMemory ??= await InMemoryServer.StartAsync(this); }
        finally { _inMemoryStart.Release(); }
    }

    /// <summary>An HttpClient into this core's in-memory server, as <paramref name="tenant"/>
    /// (trusted: no key). The SDK: <c>ServiceClient.Connect(await core.InMemoryClientAsync())</c>.</summary>
    public async Task<HttpClient> InMemoryClientAsync(string tenant = "local") => (await InMemoryAsync()).CreateClient(tenant);

    ServiceCore(ServiceContext context, long adapterCacheBytes)
    {
        Context = context;
        Runs = new TrainingRunService(context);
        RunCalls = Runs;
        FullModels = new FullModelSamplers(context);
        Sessions = new SamplingSessionService(context, FullModels);
        SamplingCalls = Sessions;
        ClusterMetrics = new Observability.LocalMetrics(context.Meter);
        Checkpoints = new CheckpointService(context);
        Adapters = new Serving.AdapterCache(context, adapterCacheBytes);
        Deployments = new Serving.DeploymentService(context);
        Feedback = new Serving.FeedbackService(context);
        Memories = new Memory.MemoryService(context) { Runs = Runs };
        Completions = new OpenAi.OpenAiCompletionService(context, new Serving.ServedModelResolver(context, Deployments, Adapters, FullModels), Memories);
        CompletionCalls = Completions;
        Loops = new Loops.LoopService(context);
        RewardModels = new Experience.RewardModels.RewardModelService(context, Runs);
        _rewardModelUpdates = new Experience.RewardModels.RewardModelBackground(RewardModels, context.Logger);
    }

    public static async Task<ServiceCore> CreateAsync(ServerOptions options)
    {
        Directory.CreateDirectory(options.DataDirectory);
        // A save killed mid-way (kill -9) leaves a checkpoint whole or invisible; this finishes the job.
        Engine.Formats.CheckpointRecovery.Recover(Path.Combine(options.DataDirectory, "checkpoints"), TimeSpan.FromMinutes(10));
        var store = MetadataStoreFactory.Create(options.Database, options.DataDirectory);
        await store.InitializeAsync();
        StartupTrace.Mark("metadata store ready");
        var models = new BaseModelRegistry(options.ModelDirectories, options.ComputeDtype, options.Device);
        var logger = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning)).CreateLogger("whetstone");
        options.Scheduling.Validate();
        var core = new ServiceCore(new ServiceContext(models, store, Path.GetFullPath(options.DataDirectory), options.QueueCapacity, logger, options.Scheduling),
            options.AdapterCacheBytes);
        core.ExpirySweepInterval = options.ExpirySweepInterval;
        core.StartLoops(options.LoopTickInterval);
        return core;
    }

    /// <summary>The background job that advances loops (see Loops/LoopRunner); they reward with the
    /// deployments' streaming reward models. <see cref="TimeSpan.Zero"/> leaves loops stopped.</summary>
    void StartLoops(TimeSpan tick)
    {
        if (tick <= TimeSpan.Zero) return;
        var job = new Loops.LoopIterationJob(Context, Runs, Sessions, Deployments, new Loops.StreamingRewardModel(RewardModels));
        _loopRunner = new Loops.LoopRunner(Context, job, tick);
        _loopRunner.Start();
    }

    public async ValueTask DisposeAsync()
    {
        if (_loopRunner is not null) await _loopRunner.DisposeAsync();   // before the workers stop: loop jobs wait on them
        if (_inMemory is not null) await _inMemory.DisposeAsync();   // no request in flight past this
        await _rewardModelUpdates.DisposeAsync();                     // nor an update
        await Memories.FlushAllAsync();   // memory updates still need the engine workers
        Context.Dispose();   // stops the engine workers, which free every tensor they hold
        await Context.Store.DisposeAsync();
    }
}
