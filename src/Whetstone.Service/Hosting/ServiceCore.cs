using Microsoft.Extensions.Logging;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Hosting;

/// <summary>The service without its HTTP layer: metadata store, base models, planners and engine workers, and the
/// run, sampling and checkpoint services. The web server and the in-process transport both sit
/// on one of these, so they behave the same.</summary>
public sealed class ServiceCore : IAsyncDisposable
{
    internal ServiceContext Context { get; }
    internal TrainingRunService Runs { get; }
    internal SamplingSessionService Sessions { get; }
    internal FullModelSamplers FullModels { get; }
    internal CheckpointService Checkpoints { get; }
    internal Serving.AdapterCache Adapters { get; }
    internal Serving.DeploymentService Deployments { get; }
    internal Serving.FeedbackService Feedback { get; }
    internal OpenAi.OpenAiCompletionService Completions { get; }
    public IMetadataStore Store => Context.Store;

    ServiceCore(ServiceContext context, long adapterCacheBytes)
    {
        Context = context;
        Runs = new TrainingRunService(context);
        FullModels = new FullModelSamplers(context);
        Sessions = new SamplingSessionService(context, FullModels);
        Checkpoints = new CheckpointService(context);
        Adapters = new Serving.AdapterCache(context, adapterCacheBytes);
        Deployments = new Serving.DeploymentService(context);
        Feedback = new Serving.FeedbackService(context);
        Completions = new OpenAi.OpenAiCompletionService(context, new Serving.ServedModelResolver(context, Deployments, Adapters, FullModels));
    }

    public static async Task<ServiceCore> CreateAsync(ServerOptions options)
    {
        Directory.CreateDirectory(options.DataDirectory);
        var store = MetadataStoreFactory.Create(options.Database, options.DataDirectory);
        await store.InitializeAsync();
        var models = new BaseModelRegistry(options.ModelDirectories, options.ComputeDtype);
        var logger = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning)).CreateLogger("whetstone");
        options.Scheduling.Validate();
        return new ServiceCore(new ServiceContext(models, store, Path.GetFullPath(options.DataDirectory), options.QueueCapacity, logger, options.Scheduling),
            options.AdapterCacheBytes);
    }

    public async ValueTask DisposeAsync()
    {
        Context.Dispose();   // stops the engine workers, which free every tensor they hold
        await Context.Store.DisposeAsync();
    }
}
