using System.Text.Json;
using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// One training run: a LoRA adapter (or full fine-tuning) on one base model. Every call that
/// does model work returns once the server has accepted it, with an <see cref="ApiFuture{T}"/>
/// for its result; the server applies a run's work in the order the calls were made (this
/// client sends them one after another, even when several are started without awaiting).
/// </summary>
/// <remarks>
/// Losses are token-level and <b>summed</b> over tokens (not averaged): scale weights or the
/// learning rate to normalise. Gradients accumulate across forward_backward calls until
/// <see cref="OptimStepAsync"/> applies and clears them.
/// </remarks>
public sealed partial class TrainingClient
{
    readonly ITransport _transport;
    readonly SubmissionOrder _order = new();

    internal TrainingClient(ITransport transport, TrainingRunInfo run)
    {
        _transport = transport;
        RunId = run.RunId;
        BaseModel = run.BaseModel;
    }

    public string RunId { get; }

    public string BaseModel { get; }

    /// <summary>The session this run was started in (null: none). Samplers the run opens are filed
    /// under it too, as Tinker's sessions list their training and sampling clients.</summary>
    public string? SessionId { get; init; }

    /// <summary>Runs the model and the loss without computing gradients: per-datum logprobs of
    /// the target tokens and loss metrics (e.g. "loss:sum").</summary>
    /// <param name="lossFn">cross_entropy, importance_sampling, ppo, cispo or dro.</param>
    /// <param name="lossFnConfig">Loss settings, e.g. clip_low_threshold / clip_high_threshold
    /// for ppo, beta for dro.</param>
    public Task<ApiFuture<ForwardBackwardOutput>> ForwardAsync(IReadOnlyList<Datum> data, string lossFn,
        IReadOnlyDictionary<string, double>? lossFnConfig = null, CancellationToken cancellationToken = default) =>
        SubmitInOrderAsync(Routes.Forward(RunId), new ForwardBackwardRequest(data, lossFn) { LossFnConfig = lossFnConfig },
            ApiFuture<ForwardBackwardOutput>.DecodeJson, cancellationToken);

    /// <summary>Like <see cref="ForwardAsync"/>, and accumulates the loss's gradient into the
    /// run for the next <see cref="OptimStepAsync"/>.</summary>
    public Task<ApiFuture<ForwardBackwardOutput>> ForwardBackwardAsync(IReadOnlyList<Datum> data, string lossFn,
        IReadOnlyDictionary<string, double>? lossFnConfig = null, CancellationToken cancellationToken = default) =>
        SubmitInOrderAsync(Routes.ForwardBackward(RunId), new ForwardBackwardRequest(data, lossFn) { LossFnConfig = lossFnConfig },
            ApiFuture<ForwardBackwardOutput>.DecodeJson, cancellationToken);

    /// <summary>
    /// Trains on a loss computed here, on the client. A forward pass fetches the learner's
    /// logprobs of each datum's "target_tokens"; <paramref name="customLoss"/> turns them into
    /// the loss and its gradient dL/dlogprob (one array per datum, each the length of that
    /// datum's logprobs); a forward_backward with loss_fn "custom" then applies the gradient
    /// through the linear surrogate Σ logp · dL/dlogp, whose gradient is exactly that of L.
    /// </summary>
    /// <returns>The future of the forward_backward; its "loss:sum" metric is the custom loss.
    /// The call returns after the forward pass and the function have run and the
    /// forward_backward was accepted; calls made after it are sent after it.</returns>
    public Task<ApiFuture<ForwardBackwardOutput>> ForwardBackwardCustomAsync(IReadOnlyList<Datum> data,
        Func<IReadOnlyList<float[]>, (double Loss, IReadOnlyList<float[]> LogprobGradients)> customLoss,
        CancellationToken cancellationToken = default) =>
        _order.Run(async () =>
        {
            var forward = await SubmitAsync(Routes.Forward(RunId), CustomLoss.ForwardRequest(data),
                ApiFuture<ForwardBackwardOutput>.DecodeJson, cancellationToken).ConfigureAwait(false);
            var logprobs = CustomLoss.Logprobs(await forward.ResultAsync(cancellationToken).ConfigureAwait(false), data.Count);
            var (loss, gradients) = customLoss(logprobs);
            return await SubmitAsync(Routes.ForwardBackward(RunId), CustomLoss.GradientRequest(data, logprobs, gradients),
                result => CustomLoss.WithLoss(ApiFuture<ForwardBackwardOutput>.DecodeJson(result), loss), cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>A reward model's (a run created with value_head) scalar for each whole sequence,
    /// without gradients. Train it with ForwardBackwardAsync and loss "bradley_terry" (data
    /// [chosen, rejected, …]) or "binary_logistic" (loss_fn_inputs "label" per datum).</summary>
    public Task<ApiFuture<ScoreOutput>> ScoreAsync(IReadOnlyList<ModelInput> inputs, CancellationToken cancellationToken = default) =>
        SubmitInOrderAsync(Routes.Score(RunId), new ScoreRequest(inputs), ApiFuture<ScoreOutput>.DecodeJson, cancellationToken);

    /// <summary>One AdamW step on the accumulated gradients, which it then clears.</summary>
    public Task<ApiFuture<OptimStepOutput>> OptimStepAsync(AdamParams adamParams, CancellationToken cancellationToken = default) =>
        SubmitInOrderAsync(Routes.OptimStep(RunId), new OptimStepRequest(adamParams), ApiFuture<OptimStepOutput>.DecodeJson, cancellationToken);

    /// <summary>Saves weights, optimizer state, step and RNG state, to resume training; the
    /// result's path is whet://&lt;run&gt;/weights/&lt;name&gt;.</summary>
    public Task<ApiFuture<SaveStateOutput>> SaveStateAsync(string name, CancellationToken cancellationToken = default) =>
        SubmitInOrderAsync(Routes.SaveState(RunId), new SaveStateRequest(name), ApiFuture<SaveStateOutput>.DecodeJson, cancellationToken);

    /// <summary>Saves the adapter alone, to sample from or export; the result's path is
    /// whet://&lt;run&gt;/sampler_weights/&lt;name&gt;.</summary>
    public Task<ApiFuture<SaveStateOutput>> SaveWeightsForSamplerAsync(string name, CancellationToken cancellationToken = default) =>
        SubmitInOrderAsync(Routes.SaveWeightsForSampler(RunId), new SaveStateRequest(name), ApiFuture<SaveStateOutput>.DecodeJson, cancellationToken);

    /// <summary>Replaces the run's weights (and, with <paramref name="withOptimizer"/>, its
    /// optimizer state) by those saved at <paramref name="path"/> (whet://…/weights/…). The
    /// future's result is that path, once loaded.</summary>
    public Task<ApiFuture<string>> LoadStateAsync(string path, bool withOptimizer = false, CancellationToken cancellationToken = default) =>
        SubmitInOrderAsync(Routes.LoadState(RunId), new LoadStateRequest(path) { WithOptimizer = withOptimizer }, _ => path, cancellationToken);

    /// <summary>The run as the server knows it: base model, rank, step, last checkpoints, tokenizer.</summary>
    public Task<TrainingRunInfo> GetInfoAsync(CancellationToken cancellationToken = default) =>
        _transport.GetAsync<TrainingRunInfo>(Routes.TrainingRun(RunId), cancellationToken);

    /// <summary>Records this client's own metrics of the run at a step (a reward, an eval score),
    /// kept by the server beside the loss it records itself; the web console draws them all.</summary>
    public Task RecordMetricsAsync(long step, IReadOnlyDictionary<string, double> metrics, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(HttpMethod.Post, Routes.RunMetrics(RunId), new RecordRunMetricsRequest(step, metrics), cancellationToken);

    /// <summary>The run's recorded metrics, from point index <paramref name="after"/> on.</summary>
    public Task<RunMetrics> GetMetricsAsync(int after = 0, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<RunMetrics>($"{Routes.RunMetrics(RunId)}?after={after}", cancellationToken);

    /// <summary>A sampling client on a sampler checkpoint (whet://…/sampler_weights/…).</summary>
    public Task<SamplingClient> CreateSamplingClientAsync(string modelPath, CancellationToken cancellationToken = default) =>
        SamplingClient.CreateAsync(_transport, new CreateSamplingSessionRequest { ModelPath = modelPath, SessionId = SessionId }, cancellationToken);

    /// <summary>Saves the adapter for sampling, waits for the save, and opens a sampling client
    /// on it: the step between training and sampling in an RL loop. Without a name the save is
    /// ephemeral (as in Tinker): left out of checkpoint lists and expiring after an hour.</summary>
    public async Task<SamplingClient> SaveWeightsAndGetSamplingClientAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        var save = await (name is null ? SaveEphemeralWeightsForSamplerAsync(cancellationToken) : SaveWeightsForSamplerAsync(name, cancellationToken)).ConfigureAwait(false);
        var saved = await save.ResultAsync(cancellationToken).ConfigureAwait(false);
        return await CreateSamplingClientAsync(saved.Path, cancellationToken).ConfigureAwait(false);
    }

    Task<ApiFuture<T>> SubmitInOrderAsync<TRequest, T>(string path, TRequest request, Func<JsonElement?, T> decode, CancellationToken cancellationToken) =>
        _order.Run(() => SubmitAsync(path, request, decode, cancellationToken), cancellationToken);

    async Task<ApiFuture<T>> SubmitAsync<TRequest, T>(string path, TRequest request, Func<JsonElement?, T> decode, CancellationToken cancellationToken)
    {
        var accepted = await _transport.PostAsync<TRequest, UntypedFuture>(path, request, cancellationToken).ConfigureAwait(false);
        return new ApiFuture<T>(_transport, accepted.RequestId, decode);
    }
}
