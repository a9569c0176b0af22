using System.Collections.Concurrent;
using System.Text.Json;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using Whetstone.Engine.Worker;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Scheduling;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>Training runs: create (fresh or from a saved state), submit their calls in order, and
/// bring a run back from its last saved state after a restart. Every call is checked completely
/// before it is queued, so a bad request changes nothing.</summary>
internal sealed partial class TrainingRunService(ServiceContext context) : IRunCalls
{
    readonly ConcurrentDictionary<string, LiveRun> _live = new();
    readonly SemaphoreSlim _loading = new(1);

    /// <summary>Each run's loss and gradient norm per step, and what its client records.</summary>
    public RunMetricsLog Metrics { get; } = new(context);

    /// <summary>A run in memory: its record, and the base model whose worker holds it.</summary>
    sealed record LiveRun(RunRecord Record, BaseModelHost Host, RunInfo Engine)
    {
        public RunRecord Record { get; set; } = Record;
        public SemaphoreSlim StoreWrites { get; } = new(1);
        /// <summary>The step the run will be at when its next submitted call runs (calls run in
        /// submission order): the step a forward_backward's loss is recorded at.</summary>
        public long SubmittedStep = Engine.Step;
    }

    public Task<P.TrainingRunInfo> CreateAsync(Caller caller, P.CreateTrainingRunRequest request) => CreateAsync(caller, request, null);

    /// <summary>With <paramref name="runId"/> set, the run gets that id (a cluster gateway names
    /// the run before its grain is placed).</summary>
    public async Task<P.TrainingRunInfo> CreateAsync(Caller caller, P.CreateTrainingRunRequest request, string? runId)
    {
        if (string.IsNullOrEmpty(request.BaseModel)) throw ApiError.BadRequest("base_model", "is required");
        if (!context.Models.Contains(request.BaseModel)) context.Models.Directory(request.BaseModel);   // throws, naming the models served
        await ClientSessions.CheckAsync(context, caller, request.SessionId);
        var lora = new LoraConfig
        {
            Rank = request.Rank, Alpha = request.Alpha ?? request.Rank, TrainAttention = request.TrainAttn,
            TrainMlp = request.TrainMlp, TrainUnembed = request.TrainUnembed, Seed = request.Seed, ValueHead = request.ValueHead,
            SharedExpertA = request.SharedExpertA, TrainVisionTower = request.TrainVisionTower,
        };
        if (request.TrainVisionTower) VisionTowerLora.Check(request, context.Models.Directory(request.BaseModel));
        if (request.ValueHead && request.FullFineTuning)
            throw ApiError.BadRequest("value_head", "needs a LoRA run: the head trains with an adapter (full_fine_tuning is on)");
        if (!request.FullFineTuning)
        {
            if (request.Rank < 1 || request.Rank > 1024) throw ApiError.BadRequest("rank", $"= {request.Rank} must be between 1 and 1024");
            try { lora.Validate(); }
            catch (ArgumentException e) { throw ApiError.BadRequest(request.Alpha is <= 0 ? "alpha" : "train_attn", e.Message); }
        }
        var record = new RunRecord(runId ?? NewRunId(), caller.Tenant, request.BaseModel, DateTimeOffset.UtcNow)
        {
            FullFineTuning = request.FullFineTuning,
            LoraConfigJson = request.FullFineTuning ? null : JsonSerializer.Serialize(lora),
            UserMetadataJson = request.UserMetadata is null ? null : JsonSerializer.Serialize(request.UserMetadata),
        };
        var live = await StartAsync(record, request.FullFineTuning ? new RunSource.NewFull() : new RunSource.NewLora(lora));
        await context.Store.InsertRunAsync(record);
        await ClientSessions.AddAsync(context, request.SessionId, ClientSessions.TrainingRunKind, record.Id);
        return Info(live.Record, live);
    }

    public Task<P.TrainingRunInfo> CreateFromStateAsync(Caller caller, P.CreateTrainingRunFromStateRequest request) =>
        CreateFromStateAsync(caller, request, null);

    public async Task<P.TrainingRunInfo> CreateFromStateAsync(Caller caller, P.CreateTrainingRunFromStateRequest request, string? runId)
    {
        var (checkpoint, source) = await Checkpoints.ReadableAsync(context, caller, request.Path ?? "", "path");
        if (checkpoint.Kind != CheckpointPath.Weights) throw ApiError.BadRequest("path", "is a sampler_weights checkpoint; a training run starts from a weights (training state) checkpoint");
        var record = new RunRecord(runId ?? NewRunId(), caller.Tenant, source.BaseModel, DateTimeOffset.UtcNow)
        {
            FullFineTuning = source.FullFineTuning,
            LoraConfigJson = source.LoraConfigJson,
            // Metadata is the caller's own: never copied from another tenant's (published) run.
            UserMetadataJson = request.UserMetadata is not null ? JsonSerializer.Serialize(request.UserMetadata)
                : source.Tenant == caller.Tenant ? source.UserMetadataJson : null,
        };
        var live = await StartAsync(record, new RunSource.SavedState(checkpoint.Directory, record.FullFineTuning, request.WithOptimizer));
        live.Record = live.Record with { Step = live.Engine.Step };
        await context.Store.InsertRunAsync(live.Record);
        return Info(live.Record, live);
    }

    public async Task<P.TrainingRunInfo> ImportPeftAsync(Caller caller, P.ImportPeftAdapterRequest request)
    {
        if (string.IsNullOrEmpty(request.BaseModel)) throw ApiError.BadRequest("base_model", "is required");
        context.Models.Directory(request.BaseModel);
        byte[] archive;
        try { archive = Convert.FromBase64String(request.ArchiveBase64 ?? ""); }
        catch (FormatException) { throw ApiError.BadRequest("archive_base64", "is not valid base64"); }
        var directory = Path.Combine(context.DataDirectory, "imports", Guid.NewGuid().ToString("N"));
        try
        {
            try { System.IO.Compression.ZipFile.ExtractToDirectory(new MemoryStream(archive), directory); }
            catch (Exception e) when (e is InvalidDataException or IOException)
            { throw ApiError.BadRequest("archive_base64", $"is not a usable zip archive ({e.Message})"); }
            var record = new RunRecord(NewRunId(), caller.Tenant, request.BaseModel, DateTimeOffset.UtcNow)
            {
                UserMetadataJson = request.UserMetadata is null ? null : JsonSerializer.Serialize(request.UserMetadata),
            };
            LiveRun live;
            try { live = await StartAsync(record, new RunSource.PeftDirectory(directory)); }
            catch (Exception e) when (e is InvalidDataException or IOException)
            { throw ApiError.BadRequest("archive_base64", e.Message); }
            live.Record = live.Record with { LoraConfigJson = JsonSerializer.Serialize(live.Engine.LoraConfig) };
            await context.Store.InsertRunAsync(live.Record);
            return Info(live.Record, live);
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    public async Task<P.TrainingRunInfo> InfoAsync(Caller caller, string runId)
    {
        var record = await OwnedAsync(caller, runId);
        _live.TryGetValue(runId, out var live);
        return Info(live?.Record ?? record, live);
    }

    public async Task<IReadOnlyList<P.TrainingRunInfo>> ListAsync(Caller caller) =>
        (await context.Store.ListRunsAsync(caller.Tenant)).Select(r => Info(_live.TryGetValue(r.Id, out var l) ? l.Record : r, null)).ToArray();

    public async Task<P.UntypedFuture> ForwardAsync(Caller caller, string runId, P.ForwardBackwardRequest request, bool backward)
    {
        var live = await LoadedAsync(caller, runId);
        if (ValueLoss.IsValueLoss(request.LossFn)) return await ValuesAsync(caller, live, request, backward);
        bool custom = request.LossFn == "custom";
        if (custom && !backward) throw ApiError.BadRequest("loss_fn", "'custom' applies gradients: use forward_backward");
        LossSpec? loss = custom ? null : LossSpec.Parse(request.LossFn ?? "", request.LossFnConfig);
        if (request.Data is null || request.Data.Count == 0) throw ApiError.BadRequest("data", "is empty");
        var gradients = new List<IReadOnlyList<float>>();
        var images = Images.ImageInputRules.For(live.Host.Worker.Config.Vision, context.DataDirectory);
        var data = request.Data.Select((d, i) =>
        {
            var datum = ProtocolMapping.Datum(d, i, custom, out var g, images);
            if (g is not null) gradients.Add(g);
            return datum;
        }).ToList();
        var item = new LearnerCall(RequestFutures.NewRequestId(), runId, data, backward) { Loss = loss, LogprobGradients = custom ? gradients : null };
        live.Host.Worker.Validate(item);
        long step = Interlocked.Read(ref live.SubmittedStep);
        return await SubmitAsync(caller, live, item, backward ? "forward_backward" : "forward", r => ProtocolMapping.Output((LearnerResult)r),
            backward ? r => RecordLoss(runId, step, ((LearnerResult)r).Metrics) : null);
    }

    /// <summary>bradley_terry / binary_logistic on a value_head run. Runs on the worker's thread
    /// in the run's order, as its own pass (not batched with other runs' learner work).</summary>
    async Task<P.UntypedFuture> ValuesAsync(Caller caller, LiveRun live, P.ForwardBackwardRequest request, bool backward)
    {
        if (request.LossFnConfig is { Count: > 0 } config)
            throw ApiError.BadRequest($"loss_fn_config.{config.Keys.First()}", $"is not a setting of {request.LossFn}");
        var loss = ValueLoss.Parse(request.LossFn);
        var work = ProtocolMapping.ValueWork(request.Data, loss);
        live.Host.Worker.Validate(live.Record.Id, work);
        var item = new RunOperationCall(RequestFutures.NewRequestId(), live.Record.Id, new RunOperation.Values(work, backward));
        long step = Interlocked.Read(ref live.SubmittedStep);
        return await SubmitAsync(caller, live, item, backward ? "forward_backward" : "forward", r => ProtocolMapping.Output((ValueResult)r),
            backward ? r => RecordLoss(live.Record.Id, step, ((ValueResult)r).Metrics) : null);
    }

    public async Task<P.UntypedFuture> ScoreAsync(Caller caller, string runId, P.ScoreRequest request)
    {
        var live = await LoadedAsync(caller, runId);
        if (request?.Inputs is null || request.Inputs.Count == 0) throw ApiError.BadRequest("inputs", "is empty");
        var work = new ValueWork(request.Inputs.Select((input, i) => (IReadOnlyList<int>)ProtocolMapping.Tokens(input, $"inputs[{i}]")).ToArray());
        live.Host.Worker.Validate(live.Record.Id, work, "inputs");
        var item = new RunOperationCall(RequestFutures.NewRequestId(), live.Record.Id, new RunOperation.Values(work, Backward: false));
        return await SubmitAsync(caller, live, item, "score", r => new P.ScoreOutput(((ValueResult)r).Values));
    }

    public async Task<P.UntypedFuture> OptimStepAsync(Caller caller, string runId, P.OptimStepRequest request)
    {
        var live = await LoadedAsync(caller, runId);
        var adam = ProtocolMapping.Adam(request?.AdamParams);
        adam.Validate();
        var item = new OptimStepCall(RequestFutures.NewRequestId(), runId, adam);
        var future = await SubmitAsync(caller, live, item, "optim_step", r =>
        {
            var result = (OptimStepResult)r;
            return new P.OptimStepOutput(result.Step, new Dictionary<string, double> { ["grad_norm"] = result.GradientNorm });
        },
        // Recorded as the step completes (steps may finish recording out of order: keep the highest).
        r =>
        {
            var result = (OptimStepResult)r;
            Metrics.RecordMeasured(runId, result.Step, new Dictionary<string, double> { ["grad_norm"] = result.GradientNorm });
            return UpdateRecordAsync(live, record => record with { Step = Math.Max(record.Step, result.Step) });
        });
        Interlocked.Increment(ref live.SubmittedStep);
        return future;
    }

    public async Task<P.UntypedFuture> SaveAsync(Caller caller, string runId, P.SaveStateRequest request, string kind)
    {
        var live = await LoadedAsync(caller, runId);
        var (name, ttl) = SaveNaming.Resolve(request, kind);
        var path = new CheckpointPath(runId, kind, name);
        var directory = path.Directory(context.DataDirectory);
        // The worker's thread writes the files; the records are written after, off that thread,
        // and the future completes once both are done.
        RunOperation operation = kind == CheckpointPath.Weights ? new RunOperation.SaveState(directory)
            : new RunOperation.SaveSamplerWeights(directory, live.Record.BaseModel, context.Models.Directory(live.Record.BaseModel));
        var item = new RunOperationCall(RequestFutures.NewRequestId(), runId, operation);
        return await SubmitAsync(caller, live, item, kind == CheckpointPath.Weights ? "save_state" : "save_weights_for_sampler",
            _ => new P.SaveStateOutput(path.ToString()), async r =>
        {
            long step = ((RunStep)r).Step;
            await context.Store.UpsertCheckpointAsync(new CheckpointRecord(path.ToString(), runId, caller.Tenant, kind, path.Name, directory, DateTimeOffset.UtcNow)
            {
                SizeBytes = new DirectoryInfo(directory).EnumerateFiles().Sum(f => f.Length),
                ExpiresAt = ttl is double seconds ? DateTimeOffset.UtcNow.AddSeconds(seconds) : null,
            });
            await UpdateRecordAsync(live, record => kind == CheckpointPath.Weights
                ? record with { LastCheckpoint = path.ToString(), Step = Math.Max(record.Step, step) }
                : record with { LastSamplerCheckpoint = path.ToString() });
        });
    }

    public async Task<P.UntypedFuture> LoadStateAsync(Caller caller, string runId, P.LoadStateRequest request)
    {
        var live = await LoadedAsync(caller, runId);
        var (checkpoint, source) = await Checkpoints.ReadableAsync(context, caller, request?.Path ?? "", "path");
        if (checkpoint.Kind != CheckpointPath.Weights) throw ApiError.BadRequest("path", "is not a weights (training state) checkpoint");
        if (source.BaseModel != live.Record.BaseModel || source.FullFineTuning != live.Record.FullFineTuning || !SameAdapterShape(source, live.Record))
            throw ApiError.BadRequest("path", "was saved by a run of another base model or adapter shape");
        var item = new RunOperationCall(RequestFutures.NewRequestId(), runId, new RunOperation.LoadState(checkpoint.Directory, request!.WithOptimizer));
        return await SubmitAsync(caller, live, item, "load_state", _ => new P.SaveStateOutput(checkpoint.Path),
            r =>
            {
                // Calls submitted while the state was loading keep the step they were given.
                Interlocked.Exchange(ref live.SubmittedStep, ((RunStep)r).Step);
                return UpdateRecordAsync(live, record => record with { Step = ((RunStep)r).Step });
            });
    }

    // Rank, alpha and targets decide the shapes; the init seed does not.
    static bool SameAdapterShape(RunRecord a, RunRecord b)
    {
        if (a.LoraConfigJson is null || b.LoraConfigJson is null) return a.LoraConfigJson == b.LoraConfigJson;
        var x = JsonSerializer.Deserialize<LoraConfig>(a.LoraConfigJson)! with { Seed = 0 };
        var y = JsonSerializer.Deserialize<LoraConfig>(b.LoraConfigJson)! with { Seed = 0 };
        return x == y;
    }

    async Task<P.UntypedFuture> SubmitAsync(Caller caller, LiveRun live, WorkerCall item, string kind, Func<object, object> toProtocol,
        Func<object, Task>? afterAsync = null)
    {
        var id = await context.SubmitAsync(live.Host, item, caller, live.Record.Id, kind, toProtocol, afterAsync);
        // Accepted is accepted: a failure to note the time must not turn it into an error a client would retry.
        context.InBackground(() => UpdateRecordAsync(live, record => record with { LastRequestAt = DateTimeOffset.UtcNow }), $"last request of {live.Record.Id}");
        return new P.UntypedFuture(id);
    }

    // Changes apply to the in-memory record under a lock; the store is then written one write at
    // a time per run, always with the newest record, so a slow older write cannot land last.
    async Task UpdateRecordAsync(LiveRun live, Func<RunRecord, RunRecord> change)
    {
        lock (live) live.Record = change(live.Record);
        await live.StoreWrites.WaitAsync();
        try
        {
            RunRecord newest;
            lock (live) newest = live.Record;
            await context.Store.UpdateRunAsync(newest);
        }
        finally
        {
            live.StoreWrites.Release();
        }
    }

    async Task<RunRecord> OwnedAsync(Caller caller, string runId)
    {
        var record = await context.Store.GetRunAsync(runId);
        if (record is null || record.Tenant != caller.Tenant) throw ApiError.NotFound("training run", runId);
        return record;
    }

    /// <summary>Brings the run into memory (restoring its last saved state) without a call: a
    /// cluster worker does it when a run's grain was placed on it again.</summary>
    public Task ResumeAsync(Caller caller, string runId) => LoadedAsync(caller, runId);

    /// <summary>The run in memory — after a restart, restored from its last saved training state.</summary>
    async Task<LiveRun> LoadedAsync(Caller caller, string runId)
    {
        var record = await OwnedAsync(caller, runId);
        if (_live.TryGetValue(runId, out var live)) return live;
        await _loading.WaitAsync();
        try
        {
            if (_live.TryGetValue(runId, out live)) return live;
            if (record.LastCheckpoint is null)
                throw ApiError.Conflict($"training run '{runId}' is not in memory (the server restarted) and has no saved state to resume from");
            var checkpoint = await context.Store.GetCheckpointAsync(record.LastCheckpoint)
                ?? throw ApiError.Conflict($"training run '{runId}': its last state {record.LastCheckpoint} was deleted");
            live = await StartAsync(record, new RunSource.SavedState(checkpoint.Directory, record.FullFineTuning, WithOptimizer: true));
            // The record may have counted steps after that state was saved: the restored run is at the state's step.
            long restored = live.Engine.Step;
            await UpdateRecordAsync(live, r => r with { Step = restored });
            return live;
        }
        finally
        {
            _loading.Release();
        }
    }

    async Task<LiveRun> StartAsync(RunRecord record, RunSource source)
    {
        var host = context.Host(record.BaseModel);
        host.Planner.Register(record.Id, ownNetwork: record.FullFineTuning);
        var info = await host.Worker.CreateRunAsync(record.Id, source);
        var live = new LiveRun(record, host, info);
        _live[record.Id] = live;
        return live;
    }

    P.TrainingRunInfo Info(RunRecord record, LiveRun? live)
    {
        var lora = record.LoraConfigJson is null ? null : JsonSerializer.Deserialize<LoraConfig>(record.LoraConfigJson);
        var tokenizer = context.Models.Contains(record.BaseModel) && live is not null ? live.Host.Worker.Tokenizer : null;
        return new P.TrainingRunInfo(record.Id, record.BaseModel)
        {
            Rank = lora?.Rank, Alpha = lora?.Alpha, IsLora = !record.FullFineTuning, LoraRank = record.FullFineTuning ? null : lora?.Rank,
            Architecture = live is not null ? live.Host.Worker.Config.Family.ModelType()
                : context.Models.Contains(record.BaseModel) ? ModelConfig.Load(context.Models.Directory(record.BaseModel)).Family.ModelType() : null, TrainAttn = lora?.TrainAttention ?? true, TrainMlp = lora?.TrainMlp ?? true,
            TrainUnembed = lora?.TrainUnembed ?? true, TrainVisionTower = lora?.TrainVisionTower ?? false, FullFineTuning = record.FullFineTuning, ValueHead = lora?.ValueHead ?? false, Step = record.Step,
            CreatedAt = record.CreatedAt, LastRequestAt = record.LastRequestAt, LastCheckpoint = record.LastCheckpoint,
            LastSamplerCheckpoint = record.LastSamplerCheckpoint,
            UserMetadata = record.UserMetadataJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(record.UserMetadataJson),
            Tokenizer = tokenizer is null ? null : new P.TokenizerInfo(tokenizer.VocabSize, tokenizer.BosTokenId, tokenizer.EosTokenIds),
        };
    }

    Task RecordLoss(string runId, long step, IReadOnlyDictionary<string, double> metrics)
    {
        if (metrics.TryGetValue("loss:sum", out var loss))
            Metrics.RecordMeasured(runId, step, new Dictionary<string, double> { ["loss:sum"] = loss });
        return Task.CompletedTask;
    }

    /// <summary>Runs in this process's memory (a worker's load, as the cluster directory counts it).</summary>
    public int LiveCount => _live.Count;

    internal static string NewRunId() => "run_" + Guid.NewGuid().ToString("N")[..16];
}
