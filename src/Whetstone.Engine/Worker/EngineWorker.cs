using System.Collections.Concurrent;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Worker;

/// <summary>Everything with tensors for one base model, on one compute thread: the loaded base
/// network, the runs (LoRA adapters on it, or full fine-tuning copies), the adapters and whole
/// models that sampling and serving use, and the decode loops. The service hands it plain calls
/// through its planner (<see cref="ICyclePlanSource"/>) and ids for everything else; results
/// come back as futures. Loading, releasing and exporting run as tasks at the start of the next
/// cycle. Every torch call of this model happens on the worker's thread.</summary>
public sealed partial class EngineWorker : IDisposable
{
    /// <summary>Network key of the base model in <see cref="LearnerPassPlan.Network"/>.</summary>
    public const string BaseNetwork = "base";
    /// <summary>Calls that arrive together (one client's forward_backward then optim_step, or many
    /// clients woken by the same finished cycle) should share a cycle: an idle worker waits this
    /// long for the rest of a burst. Short against any pass, long against a loopback round trip.</summary>
    public static readonly TimeSpan GatherWindow = TimeSpan.FromMilliseconds(3);

    readonly ICyclePlanSource _planner;
    readonly PretrainedModel _base;
    readonly Sampler _baseSampler;
    readonly DecodeLoop _decode;
    readonly Thread _thread;
    readonly CancellationTokenSource _stop = new();
    readonly SemaphoreSlim _signal = new(0);
    readonly ConcurrentQueue<Action> _tasks = new();
    // Written on the worker's thread; the service reads runs (for validation) from its own threads.
    readonly ConcurrentDictionary<string, RunEntry> _runs = new();
    readonly Dictionary<string, LoraAdapter> _adapters = new();
    readonly Dictionary<string, FullModel> _fullModels = new();
    // Kept prefixes of calls that name a PrefixKey (a memory's scoring passes and answer prompt), LRU-bounded.
    readonly PrefixKvStore _prefixes = new(DefaultPrefixCacheBytes);

    /// <summary>Bytes of KV the worker keeps for <see cref="LogprobsCall.PrefixKey"/> calls (least recently used evicted first).</summary>
    public const long DefaultPrefixCacheBytes = 256L << 20;

    sealed record RunEntry(TrainingRun Run, PretrainedModel? OwnModel, RunInfo Info);

    sealed class FullModel(PretrainedModel model, DecodeLoop decode)
    {
        public PretrainedModel Model { get; } = model;
        public DecodeLoop Decode { get; } = decode;
        public Sampler Sampler { get; } = new(model.Network, model.Tokenizer);
    }

    public string ModelName { get; }
    public string ModelDirectory { get; }
    public ScalarType Dtype { get; }
    /// <summary>Where the base model, and every run, adapter and cache on it, lives.</summary>
    public Device Device { get; }
    public ModelConfig Config => _base.Config;
    public HuggingFaceTokenizer Tokenizer => _base.Tokenizer;
    /// <summary>Bytes the base network's parameters hold.</summary>
    public long ParameterBytes { get; }
    /// <summary>Called on the worker's thread after each call completes, for accounting.</summary>
    public Action<WorkerCall>? Completed { get; set; }
    public Action<Exception>? CycleFailed { get; set; }

    /// <summary>Loads the base model from <paramref name="directory"/> onto <paramref name="device"/>
    /// (default the CPU; on the calling thread) and starts the compute thread.</summary>
    public EngineWorker(string modelName, string directory, ScalarType dtype, ICyclePlanSource planner, Device? device = null)
    {
        ModelName = modelName;
        ModelDirectory = directory;
        Dtype = dtype;
        Device = device ?? CPU;
        _planner = planner;
        _base = PretrainedModel.Load(directory, dtype, Device);
        _baseSampler = new Sampler(_base.Network, _base.Tokenizer);
        ParameterBytes = _base.Network.parameters().Sum(p => p.NumberOfElements * p.ElementSize);
        _decode = new DecodeLoop(_base.Network, _base.Tokenizer, Complete, _prefixes);
        _thread = new Thread(Loop) { IsBackground = true, Name = $"whetstone-{modelName}" };
        _thread.Start();
    }

    /// <summary>New work was queued with the planner.</summary>
    public void Wake() => _signal.Release();

    // ---- runs ----

    /// <summary>Creates run <paramref name="runId"/> from <paramref name="source"/> (a full
    /// fine-tuning run gets its own copy of the base model, loaded here).</summary>
    public Task<RunInfo> CreateRunAsync(string runId, RunSource source) => OnThreadAsync(() =>
    {
        PretrainedModel? own = source is RunSource.NewFull or RunSource.SavedState { FullFineTuning: true }
            ? PretrainedModel.Load(ModelDirectory, Dtype, Device) : null;
        try
        {
            var network = own?.Network ?? _base.Network;
            var run = source switch
            {
                RunSource.NewLora lora => TrainingRun.CreateLora(network, lora.Config),
                RunSource.NewFull => TrainingRun.CreateFull(network),
                RunSource.SavedState { FullFineTuning: false } state => TrainingCheckpoint.LoadLora(network, state.Directory, state.WithOptimizer),
                RunSource.SavedState state => LoadFull(network, state),
                RunSource.PeftDirectory peft => TrainingRun.FromAdapter(network, PeftAdapter.Load(peft.Directory, network)),
                _ => throw new ArgumentException($"unknown run source {source}"),
            };
            var info = new RunInfo(run.Step, run.Adapter?.Config, run.Adapter?.ValueHead is not null);
            if (_runs.TryRemove(runId, out var replaced)) DisposeRun(replaced);
            _runs[runId] = new RunEntry(run, own, info);
            return info;
        }
        catch
        {
            own?.Dispose();
            throw;
        }
    });

    static TrainingRun LoadFull(CausalLanguageModel network, RunSource.SavedState state)
    {
        var run = TrainingRun.CreateFull(network);
        TrainingCheckpoint.LoadInto(run, state.Directory, state.WithOptimizer);
        return run;
    }

    /// <summary>The run as created, or null if this worker holds no run of that id.</summary>
    public RunInfo? Run(string runId) => _runs.TryGetValue(runId, out var entry) ? entry.Info : null;

    /// <summary>Throws <see cref="TrainingArgumentException"/> naming the field if the call cannot run; computes nothing.</summary>
    public void Validate(LearnerCall call) =>
        LearnerPass.Validate(Config, new LearnerWork(null, call.Data) { Loss = call.Loss, LogprobGradients = call.LogprobGradients });

    /// <summary>Same for a reward-model pass of run <paramref name="runId"/>.</summary>
    public void Validate(string runId, ValueWork work, string sequencesField = "data")
    {
        var entry = _runs.TryGetValue(runId, out var e) ? e : throw new RunNotLoadedException(runId);
        ValuePass.Validate(Config, entry.Run.Adapter, work, sequencesField);
    }

    /// <summary>Same for a sampling request on this base model (every model of a worker shares its config).</summary>
    public void Validate(SampleRequest request) => SampleValidation.Check(Config, request);

    public void CheckTokens(string field, IReadOnlyList<int> tokens) => SampleValidation.CheckTokens(Config, field, tokens);

    // ---- adapters and whole models for sampling and serving ----

    /// <summary>Loads a PEFT adapter under <paramref name="key"/> (factors in the compute dtype when
    /// <paramref name="computeDtype"/>, as serving wants them); returns the bytes its factors hold.</summary>
    public Task<long> LoadAdapterAsync(string key, string directory, bool computeDtype = false) => OnThreadAsync(() =>
    {
        var adapter = PeftAdapter.Load(directory, _base.Network, factorDtype: computeDtype ? _base.Network.Dtype : null);
        if (_adapters.Remove(key, out var replaced)) replaced.Dispose();
        _adapters[key] = adapter;
        return adapter.Weights.Sum(w => w.A.NumberOfElements * w.A.ElementSize + w.B.NumberOfElements * w.B.ElementSize);
    });

    /// <summary>Disposes the adapter at the next cycle; calls already queued with it must have completed.</summary>
    public void ReleaseAdapter(string key) => Enqueue(() =>
    {
        if (_adapters.Remove(key, out var adapter)) adapter.Dispose();
    });

    /// <summary>Loads a whole model (a full fine-tuning run's sampler checkpoint) under <paramref name="key"/>, with its own decode loop.</summary>
    public Task LoadFullModelAsync(string key, string directory) => OnThreadAsync(() =>
    {
        var model = PretrainedModel.Load(directory, Dtype, Device);
        _fullModels[key] = new FullModel(model, new DecodeLoop(model.Network, model.Tokenizer, Complete));
        return true;
    });

    /// <summary>Disposes the whole model at the next cycle, failing any row still decoding on it.</summary>
    public void ReleaseFullModel(string key) => Enqueue(() =>
    {
        if (!_fullModels.Remove(key, out var full)) return;
        full.Decode.Dispose();
        full.Model.Dispose();
    });

    /// <summary>A sampler checkpoint as a standalone Hugging Face model in bf16 under
    /// <paramref name="outputDirectory"/>: a LoRA adapter merged into the base weights, or a full
    /// fine-tuning run's whole model converted.</summary>
    public Task ExportMergedAsync(string checkpointDirectory, bool fullModel, string outputDirectory) => OnThreadAsync(() =>
    {
        if (fullModel)
        {
            using var model = PretrainedModel.Load(checkpointDirectory, ScalarType.BFloat16, CPU);   // converted for writing: host memory
            MergedModelWriter.WriteFullModel(checkpointDirectory, model.Network, outputDirectory, ScalarType.BFloat16);
            return true;
        }
        using var adapter = PeftAdapter.Load(checkpointDirectory, _base.Network);
        MergedModelWriter.Write(ModelDirectory, _base.Network, adapter, outputDirectory);
        return true;
    });

    // ---- the thread ----

    Task<T> OnThreadAsync<T>(Func<T> action)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(() =>
        {
            try { done.TrySetResult(action()); }
            catch (Exception e) { done.TrySetException(e); }
        });
        return done.Task;
    }

    void Enqueue(Action task)
    {
        _tasks.Enqueue(task);
        _signal.Release();
    }

    bool Decoding => !_decode.IsEmpty || _fullModels.Values.Any(f => !f.Decode.IsEmpty);

    void Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (!Decoding)
            {
                try { _signal.Wait(_stop.Token); }
                catch (OperationCanceledException) { break; }
                Thread.Sleep(GatherWindow);
            }
            while (_signal.CurrentCount > 0) _signal.Wait(0);   // one cycle serves every signal so far
            try
            {
                while (_tasks.TryDequeue(out var task)) task();
                var plan = _planner.Next(Load());
                _planner.Finished(Execute(plan));
            }
            catch (Exception e) { CycleFailed?.Invoke(e); }   // calls fail individually; the loop must go on
        }
    }

    DecodeLoad Load()
    {
        var byOwner = new Dictionary<string, int>();
        int live = 0;
        _decode.AddLoad(byOwner, ref live);
        foreach (var full in _fullModels.Values) full.Decode.AddLoad(byOwner, ref live);
        return new DecodeLoad(byOwner, live);
    }

    /// <summary>Stops the thread after the cycle in progress, fails what still decodes, and frees every tensor.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        while (_tasks.TryDequeue(out var task)) task();
        _decode.Dispose();
        foreach (var full in _fullModels.Values)
        {
            full.Decode.Dispose();
            full.Model.Dispose();
        }
        _fullModels.Clear();
        foreach (var entry in _runs.Values) DisposeRun(entry);
        _runs.Clear();
        foreach (var adapter in _adapters.Values) adapter.Dispose();
        _adapters.Clear();
        _prefixes.Dispose();
        _base.Dispose();
    }

    static void DisposeRun(RunEntry entry)
    {
        entry.Run.Dispose();
        entry.OwnModel?.Dispose();
    }
}
