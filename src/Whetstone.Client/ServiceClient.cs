using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// The entry point of the SDK: creates training runs, sampling clients and the REST client
/// over one transport — HTTP (<see cref="Connect(Uri, string, RetryPolicy?)"/>), the service's in-memory
/// server (<see cref="Connect(HttpClient, RetryPolicy?)"/>) or any other <see cref="ITransport"/>.
/// </summary>
public sealed partial class ServiceClient : IDisposable
{
    readonly ITransport _transport;
    readonly bool _ownsTransport;

    /// <summary>A client over the caller's transport, which the caller keeps ownership of.</summary>
    public ServiceClient(ITransport transport) : this(transport, ownsTransport: false)
    {
    }

    ServiceClient(ITransport transport, bool ownsTransport)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _ownsTransport = ownsTransport;
    }

    /// <summary>A client over HTTP to the server at <paramref name="baseAddress"/>, authenticated
    /// by <paramref name="apiKey"/>; disposing the client closes its connections.</summary>
    public static ServiceClient Connect(Uri baseAddress, string apiKey, RetryPolicy? retry = null) =>
        new(new HttpTransport(baseAddress, apiKey, retry), ownsTransport: true);

    /// <summary>A client over an HttpClient that already says where and who (see
    /// <see cref="HttpTransport(HttpClient, RetryPolicy?)"/>), e.g. a service core's in-memory
    /// client; disposing the client disposes the HttpClient.</summary>
    public static ServiceClient Connect(HttpClient httpClient, RetryPolicy? retry = null) =>
        new(new HttpTransport(httpClient, retry), ownsTransport: true);

    /// <summary>Starts a LoRA training run on <paramref name="baseModel"/>. The adapter's A
    /// factors are drawn from <paramref name="seed"/>, its B factors are zero, so the run starts
    /// exactly at the base model.</summary>
    /// <param name="trainMlp">Includes MoE experts, where the model has them.</param>
    /// <param name="trainVisionTower">LoRA on a VLM's vision tower blocks too (the projector follows trainMlp).</param>
    public Task<TrainingClient> CreateLoraTrainingClientAsync(string baseModel, int rank = 32, long seed = 0,
        bool trainAttn = true, bool trainMlp = true, bool trainUnembed = true,
        IReadOnlyDictionary<string, string>? userMetadata = null, bool trainVisionTower = false, CancellationToken cancellationToken = default) =>
        CreateTrainingClientAsync(new CreateTrainingRunRequest(baseModel)
        {
            Rank = rank,
            Seed = seed,
            TrainAttn = trainAttn,
            TrainMlp = trainMlp,
            TrainUnembed = trainUnembed,
            TrainVisionTower = trainVisionTower,
            UserMetadata = userMetadata,
        }, cancellationToken);

    /// <summary>Starts a reward model on <paramref name="baseModel"/>: a LoRA adapter with a scalar
    /// value head, trained with the "bradley_terry" or "binary_logistic" loss and read with
    /// <see cref="TrainingClient.ScoreAsync"/>.</summary>
    public Task<TrainingClient> CreateRewardModelClientAsync(string baseModel, int rank = 32, long seed = 0, CancellationToken cancellationToken = default) =>
        CreateTrainingClientAsync(new CreateTrainingRunRequest(baseModel) { Rank = rank, Seed = seed, ValueHead = true }, cancellationToken);

    /// <summary>Starts a training run with every setting of the protocol (LoRA alpha, full
    /// fine-tuning).</summary>
    public async Task<TrainingClient> CreateTrainingClientAsync(CreateTrainingRunRequest request, CancellationToken cancellationToken = default)
    {
        request = request with { SessionId = request.SessionId ?? _sessionId };
        var run = await _transport.PostAsync<CreateTrainingRunRequest, TrainingRunInfo>(Routes.TrainingRuns, request, cancellationToken).ConfigureAwait(false);
        return new TrainingClient(_transport, run) { SessionId = request.SessionId };
    }

    /// <summary>Starts a new run from a saved training state (whet://…/weights/…), with its
    /// optimizer state too when <paramref name="withOptimizer"/> (to resume exactly).</summary>
    public async Task<TrainingClient> CreateTrainingClientFromStateAsync(string path, bool withOptimizer = false,
        IReadOnlyDictionary<string, string>? userMetadata = null, CancellationToken cancellationToken = default)
    {
        var request = new CreateTrainingRunFromStateRequest(path) { WithOptimizer = withOptimizer, UserMetadata = userMetadata };
        var run = await _transport.PostAsync<CreateTrainingRunFromStateRequest, TrainingRunInfo>(Routes.TrainingRunsFromState, request, cancellationToken).ConfigureAwait(false);
        return new TrainingClient(_transport, run);
    }

    /// <summary>A sampling client on a base model or on a sampler checkpoint
    /// (whet://…/sampler_weights/…) — exactly one of the two.</summary>
    public Task<SamplingClient> CreateSamplingClientAsync(string? baseModel = null, string? modelPath = null, CancellationToken cancellationToken = default) =>
        SamplingClient.CreateAsync(_transport, new CreateSamplingSessionRequest { BaseModel = baseModel, ModelPath = modelPath, SessionId = _sessionId }, cancellationToken);

    /// <summary>Runs, checkpoints, downloads and usage.</summary>
    public RestClient CreateRestClient() => new(_transport);

    /// <summary>Deployment aliases: create, promote, roll back, versions.</summary>
    public DeploymentsClient Deployments => new(_transport);
    /// <summary>The served-completion log: pages, filtered listing, JSONL export.</summary>
    public CompletionLogClient CompletionLog => new(_transport);
    /// <summary>Feedback on served completions: the five kinds, list, export.</summary>
    public FeedbackClient Feedback => new(_transport);
    /// <summary>Deployments' streaming reward models: status, scores, updates, lineage.</summary>
    public RewardModelsClient RewardModels => new(_transport);
    /// <summary>Experiential loops on deployments: create, status, pause/resume, lineage.</summary>
    public LoopsClient Loops => new(_transport);
    /// <summary>Chat with a Memory Diffusion memory (/v1/chat/completions' memory field) and read or delete memories.</summary>
    public MemoryChatClient CreateMemoryChatClient() => new(_transport);

    /// <summary>A client for an existing run of the caller's (by id) — after a server restart the
    /// server brings the run back from its last saved training state on the first call.</summary>
    public async Task<TrainingClient> GetTrainingClientAsync(string runId, CancellationToken cancellationToken = default) =>
        new(_transport, await _transport.GetAsync<TrainingRunInfo>(Routes.TrainingRun(runId), cancellationToken).ConfigureAwait(false));

    /// <summary>A new LoRA run continuing an external PEFT adapter (a zip of adapter_config.json
    /// and adapter_model.safetensors), e.g. one trained elsewhere with Hugging Face PEFT.</summary>
    public async Task<TrainingClient> ImportPeftAdapterAsync(string baseModel, Stream peftZip, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await peftZip.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        var run = await _transport.PostAsync<ImportPeftAdapterRequest, TrainingRunInfo>(Routes.TrainingRunsImportPeft,
            new ImportPeftAdapterRequest(baseModel, Convert.ToBase64String(buffer.ToArray())), cancellationToken).ConfigureAwait(false);
        return new TrainingClient(_transport, run);
    }

    /// <summary>Whether the server is up and which base models it serves.</summary>
    public Task<HealthResponse> GetHealthAsync(CancellationToken cancellationToken = default) =>
        _transport.GetAsync<HealthResponse>(Routes.Health, cancellationToken);

    public void Dispose()
    {
        if (_ownsTransport && _transport is IDisposable disposable)
            disposable.Dispose();
    }
}
