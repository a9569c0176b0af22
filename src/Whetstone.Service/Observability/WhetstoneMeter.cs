using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Whetstone.Service.Scheduling;

namespace Whetstone.Service.Observability;

/// <summary>Every instrument the service reports, in one place (scraped at /metrics through
/// OpenTelemetry's Prometheus exporter, see <see cref="MetricsEndpoint"/>). Each measurement carries
/// the <c>silo</c> tag — this process's server — so that several servers in one cluster, or in one
/// test process, stay apart; per base model ones carry <c>base_model</c>. Tokens are counters: their
/// per-second rates are Prometheus's <c>rate()</c>. No tenant, run or key ever becomes a tag.</summary>
internal sealed class WhetstoneMeter : IDisposable
{
    public const string MeterName = "Whetstone";
    static int _instances;

    // One meter and one set of instruments per process, never disposed: OpenTelemetry merges
    // same-named instruments of several meters into one stream and drops it when any of them is
    // disposed, which lost a live server's series when another server in the process stopped.
    // Servers stay apart by their silo tag; the gauges observe every live server.
    static readonly Meter _meter = new(MeterName, "1.0");
    static readonly ConcurrentDictionary<WhetstoneMeter, bool> Live = new();
    static readonly Histogram<double> _cycleSeconds;
    static readonly Counter<long> _trainedTokens, _sampledTokens, _optimSteps, _cycles;
    static readonly Histogram<double> _timeToFirstToken, _interTokenLatency;
    static readonly Counter<long> _adapterHits, _adapterMisses, _adapterEvictions, _rejected;

    readonly ConcurrentDictionary<string, CyclePlanner> _planners = new(StringComparer.Ordinal);
    readonly Stopwatch _uptime = Stopwatch.StartNew();
    readonly KeyValuePair<string, object?> _silo;
    readonly SiloMetricsReader _reader;

    /// <summary>This server's name in every measurement: host and process id, with a suffix for a
    /// second server in the same process (tests start many).</summary>
    public string Silo { get; }

    public WhetstoneMeter()
    {
        int n = Interlocked.Increment(ref _instances);
        Silo = $"{Environment.MachineName}:{Environment.ProcessId}" + (n == 1 ? "" : $"#{n}");
        _silo = new("silo", Silo);
        _reader = new SiloMetricsReader(Silo);
        Live[this] = true;
    }

    /// <summary>This server's series now (and no other server's of the process): what it hands to
    /// a gateway's /metrics/cluster.</summary>
    public SiloMetricsSnapshot Snapshot() => _reader.Snapshot();

    static WhetstoneMeter()
    {
        _cycleSeconds = _meter.CreateHistogram<double>("whetstone.cycle.duration", "s", "Wall time of one scheduler cycle of a base model's engine worker",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _cycles = _meter.CreateCounter<long>("whetstone.cycles", "{cycle}", "Scheduler cycles run");
        _trainedTokens = _meter.CreateCounter<long>("whetstone.trained.tokens", "{token}", "Tokens in forward and forward_backward passes");
        _sampledTokens = _meter.CreateCounter<long>("whetstone.sampled.tokens", "{token}", "Tokens decoded, every kind of sampling");
        _optimSteps = _meter.CreateCounter<long>("whetstone.optim.steps", "{step}", "Optimizer steps applied");
        var latencyBuckets = new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] };
        _timeToFirstToken = _meter.CreateHistogram<double>("whetstone.openai.time_to_first_token", "s", "From a /v1 request's arrival to its first sampled token", advice: latencyBuckets);
        _interTokenLatency = _meter.CreateHistogram<double>("whetstone.openai.inter_token_latency", "s", "Between two tokens of one /v1 choice, as the request reads them", advice: latencyBuckets);
        _adapterHits = _meter.CreateCounter<long>("whetstone.adapter_cache.hits", "{request}", "Served requests whose adapter was loaded already");
        _adapterMisses = _meter.CreateCounter<long>("whetstone.adapter_cache.misses", "{request}", "Served requests that loaded their adapter");
        _adapterEvictions = _meter.CreateCounter<long>("whetstone.adapter_cache.evictions", "{adapter}", "Adapters evicted over the cache's memory budget");
        _rejected = _meter.CreateCounter<long>("whetstone.http.rejected", "{request}", "Requests answered 429 (queue full), by route group");
        _meter.CreateObservableGauge("whetstone.queue.depth", () => Live.Keys.SelectMany(m => m._planners.Values.Select(p =>
            new Measurement<int>(p.QueueDepth, m._silo, new("base_model", p.ModelName)))), "{call}", "Calls queued or running on a base model");
        _meter.CreateObservableGauge("whetstone.silo.up", () => Live.Keys.Select(m => new Measurement<int>(1, m._silo)), description: "1 while this server answers");
        _meter.CreateObservableGauge("whetstone.silo.uptime", () => Live.Keys.Select(m => new Measurement<double>(m._uptime.Elapsed.TotalSeconds, m._silo)), "s", "Seconds since this server started");
        _meter.CreateObservableGauge("whetstone.silo.base_models", () => Live.Keys.Select(m => new Measurement<int>(m._planners.Count, m._silo)), "{model}", "Base models loaded on this server's engine workers");
    }

    /// <summary>A base model whose planner started: its queue is observed from now on.</summary>
    public void Track(CyclePlanner planner) => _planners[planner.ModelName] = planner;

    public void CycleFinished(string baseModel, CycleMetrics cycle)
    {
        var model = new KeyValuePair<string, object?>("base_model", baseModel);
        _cycles.Add(1, _silo, model);
        _cycleSeconds.Record(cycle.Seconds, _silo, model);
        if (cycle.OptimSteps > 0) _optimSteps.Add(cycle.OptimSteps, _silo, model);
    }

    /// <summary>Tokens are counted per finished call, from the usage the engine measured for it: a
    /// call's sampled tokens are exactly the tokens it returns (the first token of each sample
    /// comes from the prefill, outside the cycle's decode-step count).</summary>
    public void CallCompleted(string baseModel, Engine.Worker.CallUsage usage)
    {
        var model = new KeyValuePair<string, object?>("base_model", baseModel);
        if (usage.TrainedTokens > 0) _trainedTokens.Add(usage.TrainedTokens, _silo, model);
        if (usage.SampledTokens > 0) _sampledTokens.Add(usage.SampledTokens, _silo, model);
    }

    public void FirstToken(string baseModel, double seconds) => _timeToFirstToken.Record(seconds, _silo, new("base_model", baseModel));
    public void BetweenTokens(string baseModel, double seconds) => _interTokenLatency.Record(seconds, _silo, new("base_model", baseModel));

    public void AdapterHit(string baseModel) => _adapterHits.Add(1, _silo, new("base_model", baseModel));
    public void AdapterMiss(string baseModel) => _adapterMisses.Add(1, _silo, new("base_model", baseModel));
    public void AdapterEvicted(string baseModel) => _adapterEvictions.Add(1, _silo, new("base_model", baseModel));

    /// <summary>A 429; <paramref name="routeGroup"/> is the path's first segments (/api/v1/…, /v1/…), never an id.</summary>
    public void Rejected(string routeGroup, string code) => _rejected.Add(1, _silo, new("route", routeGroup), new("code", code));

    /// <summary>The server stopped: its gauges are no longer observed (its counters keep their last values).</summary>
    public void Dispose()
    {
        Live.TryRemove(this, out _);
        _reader.Dispose();
    }
}
