using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Runtime;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Sampling;

/// <summary>A decode batch that lives across calls (iteration-level scheduling, as in Orca and
/// vLLM): requests join it after their prefill and take part from the next step on; each step
/// advances every row by one token with its own adapter, and rows leave when they finish or are
/// cancelled. Rows of different prompt lengths, adapters and sampling settings share the one KV
/// cache: each row writes and reads at its own positions, and attention masks the rest.
/// A row draws from the same seeded stream as <see cref="Sampler"/> would give it, so a row's
/// tokens do not depend on which other rows share its steps. Not thread-safe: one thread (the
/// scheduler's tensor thread) owns it.</summary>
public sealed class DecodeBatch(CausalLanguageModel network, HuggingFaceTokenizer tokenizer) : IDisposable
{
    readonly List<DecodeRow> _rows = [];
    KvCache? _cache;
    // The rows' adapters, kept while the rows stay the same (it caches stacked factors).
    AdapterBatch? _adapters;
    bool _adaptersCurrent;
    // The sparse layers whose experts a row asking for routing records (empty for a dense model).
    readonly int[] _routedLayers = RoutedExperts.SparseLayers(network.Config);

    /// <summary>Rows currently decoding.</summary>
    public int Count => _rows.Count;
    public IReadOnlyList<DecodeRow> Rows => _rows;
    /// <summary>Cache slots × positions held (the memory the batch occupies, in token entries).</summary>
    public long CacheEntries => _cache is null ? 0 : (long)_cache.BatchSize * _cache.Capacity;

    /// <summary>Prefills the requests (together, right-padded, each prompt once however many
    /// samples it asks for), draws every sample's first token, and adds the unfinished samples to
    /// the batch. Returns every new row, in request then sample order; <paramref name="owners"/>
    /// (one per request, or null) is attached to the rows.</summary>
    public IReadOnlyList<DecodeRow> Join(IReadOnlyList<SampleRequest> requests, IReadOnlyList<object?>? owners = null)
    {
        if (requests.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var recorder = requests.Any(r => r.IncludeRouting) ? ExpertRouting.Recorder() : null;
        var (prompts, hidden, logits) = PromptPrefill.Run(network, requests, recorder);
        using var promptCache = prompts;
        var promptLogprobs = requests.Select((r, p) => PromptLogprobsOf(r, hidden, p)).ToArray();
        var promptExperts = recorder is null ? null : RoutingTrace.Host(recorder, _routedLayers);   // [P, T, layers, k]
        return Admit(requests, promptCache, logits, x => new DecodeRow(requests[x.Request], x.Sample, x.State, owners?[x.Request])
        {
            PromptLogprobs = promptLogprobs[x.Request].Logprobs,
            TopkPromptLogprobs = promptLogprobs[x.Request].Topk,
            Routing = requests[x.Request].IncludeRouting ? PromptTrace(promptExperts!, x.Request, requests[x.Request].Prompt.Count, hidden.shape[1]) : null,
        });
    }

    /// <summary>Joins one request whose prompt may start with a sequence kept under
    /// <paramref name="key"/>: only what follows the shared prefix is prefilled
    /// (<see cref="PrefixPrefill"/>); with <paramref name="keep"/> the prompt's KV is kept under the
    /// key for the next call. The request must be <see cref="PrefixPrefill.Eligible"/>. Returns the
    /// new rows and how many prompt tokens came from the store.</summary>
    public (IReadOnlyList<DecodeRow> Rows, int ReusedTokens) JoinAfterPrefix(SampleRequest request, object? owner, PrefixKvStore store, string key, bool keep)
    {
        if (!PrefixPrefill.Eligible(request)) throw new ArgumentException("an adapter, images, prompt logprobs or routing need the plain prefill", nameof(request));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (prompt, logits, reused) = PrefixPrefill.Run(network, request, store, key);
        using var promptCache = prompt;
        if (keep) PrefixPrefill.Keep(store, key, request.Prompt, promptCache);
        return (Admit([request], promptCache, logits, x => new DecodeRow(request, x.Sample, x.State, owner)), reused);
    }

    // After a prefill: every sample's first token, and the unfinished samples into the batch.
    IReadOnlyList<DecodeRow> Admit(IReadOnlyList<SampleRequest> requests, KvCache promptCache, Tensor logits,
        Func<(int Request, int Sample, SequenceState State), DecodeRow> rowOf)
    {
        var samples = PromptPrefill.Sequences(network, tokenizer, requests);
        var rows = samples.Select(rowOf).ToList();
        var source = samples.Select(x => (long)x.Request).ToList();
        Advance(logits.index_select(0, tensor(source.ToArray(), device: logits.device)), rows);

        // Samples of one prompt share its prefill: copy its cache to each unfinished sample's slot.
        var joining = rows.Select((row, i) => (row, i)).Where(x => !x.row.Finished).ToList();
        if (joining.Count > 0)
        {
            var joined = promptCache.SelectRows(joining.Select(x => source[x.i]).ToArray());
            if (_cache is null) _cache = joined;
            else
            {
                var both = _cache.Concat(joined);
                _cache.Dispose();
                joined.Dispose();
                _cache = both;
            }
            _rows.AddRange(joining.Select(x => x.row));
            GroupRowsByAdapter();
            RowsChanged();
        }
        return rows;
    }

    // A sample's trace starts with its prompt's experts: row p's first promptLength tokens.
    RoutingTrace PromptTrace(long[] experts, int p, int promptLength, long paddedLength)
    {
        int width = _routedLayers.Length * network.Config.Moe!.ExpertsPerToken;
        var trace = new RoutingTrace(_routedLayers, network.Config.Moe.ExpertsPerToken);
        trace.Append(experts.AsSpan((int)(p * paddedLength * width), promptLength * width));
        return trace;
    }

    // What the training API's sample asks for besides tokens: log p(prompt[t] | prompt[..t]) and the
    // k most likely tokens at each prompt position, from the prefill's hidden states.
    (IReadOnlyList<float?>? Logprobs, IReadOnlyList<IReadOnlyList<TokenLogprob>?>? Topk) PromptLogprobsOf(SampleRequest r, Tensor hidden, int p)
    {
        if (!r.IncludePromptLogprobs && r.TopkPromptLogprobs == 0) return (null, null);
        var promptLogits = network.Logits(hidden[TensorIndex.Slice(p, p + 1), TensorIndex.Slice(0, r.Prompt.Count)],
            AdapterBatch.For([r.Adapter]))[0];                                                   // [T, V]
        var (logprobs, topk) = PromptLogprobs.From(promptLogits, r.Prompt, r.TopkPromptLogprobs);
        return (r.IncludePromptLogprobs ? logprobs : null, topk);
    }

    /// <summary>One token for every row: a one-token forward over the whole batch (each row with
    /// its adapter), a draw per row, and finished or cancelled rows leave. Returns the rows that
    /// got a token.</summary>
    public IReadOnlyList<DecodeRow> Step()
    {
        DropFinished();
        if (_rows.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var rows = _rows.ToArray();
        // The step's only host-to-device traffic: each row's last token and its position.
        var positions = rows.Select(r => (long)r.State.NextPosition - 1).ToArray();
        var stepTokens = tensor(rows.Select(r => (long)r.State.Tokens[^1]).ToArray(), device: network.Device).unsqueeze(1);   // [A, 1]
        var stepPositions = tensor(positions, device: network.Device).unsqueeze(1);
        if (!_adaptersCurrent)
        {
            _adapters = rows.All(r => r.Request.Adapter is null) ? null
                : new AdapterBatch(rows.Select(r => r.Request.Adapter).ToArray()) { KeepStackedFactors = true };
            _adaptersCurrent = true;
        }
        var rope = rows.Any(r => r.State.RopeDelta != 0)
            ? tensor(rows.Select(r => r.State.NextPosition - 1 + r.State.RopeDelta).ToArray(), device: network.Device).unsqueeze(1) : null;
        using var recorder = rows.Any(r => r.Routing is not null) ? ExpertRouting.Recorder() : null;
        var logits = network.Logits(network.Forward(stepTokens, stepPositions, _cache!, _adapters,
            images: null, ropePositions: rope, maxPosition: positions.Max(), routing: recorder), _adapters).squeeze(1);   // [A, V]
        if (recorder is not null)
        {
            var experts = RoutingTrace.Host(recorder, _routedLayers);                            // [A, 1, layers, k]
            int width = experts.Length / rows.Length;
            for (int i = 0; i < rows.Length; i++) rows[i].Routing?.Append(experts.AsSpan(i * width, width));
        }
        Advance(logits, rows);
        DropFinished();
        return rows;
    }

    /// <summary>Marks a row cancelled; it leaves the batch before the next step.</summary>
    public static void Cancel(DecodeRow row) => row.Cancelled = true;

    void Advance(Tensor logits, IReadOnlyList<DecodeRow> rows)
    {
        var states = rows.Select(r => r.State).ToArray();
        var (chosen, chosenLogprobs) = TokenChooser.Choose(logits, states);
        int k = rows.Max(r => r.Request.TopLogprobs);
        (long[] Ids, float[] Values)? top = null;
        if (k > 0)
        {
            var (values, ids) = logits.log_softmax(-1).topk(Math.Min(k, (int)logits.shape[1]), -1);   // [R, k]
            top = (HostCopy.ToArray<long>(ids), HostCopy.ToArray<float>(values.to(ScalarType.Float32)));
        }
        int width = top is null ? 0 : top.Value.Ids.Length / rows.Count;
        for (int i = 0; i < rows.Count; i++)
        {
            rows[i].State.Append((int)chosen[i], chosenLogprobs[i]);
            int wanted = Math.Min(rows[i].Request.TopLogprobs, width);
            rows[i].AddTop(Enumerable.Range(0, wanted).Select(j => new TokenLogprob((int)top!.Value.Ids[i * width + j], top.Value.Values[i * width + j])).ToArray());
        }
    }

    // Rows of one adapter side by side: each projection then updates one slice per adapter
    // (or one batched product) instead of gathering and scattering scattered rows.
    void GroupRowsByAdapter()
    {
        var firstSeen = new Dictionary<object, int>(ReferenceEqualityComparer.Instance);
        var none = new object();
        foreach (var row in _rows) firstSeen.TryAdd(row.Request.Adapter ?? none, firstSeen.Count);
        var order = _rows.Select((r, i) => (Key: firstSeen[r.Request.Adapter ?? none], Index: i)).OrderBy(x => x.Key).ThenBy(x => x.Index)
            .Select(x => x.Index).ToArray();
        if (order.Select((o, i) => o == i).All(same => same)) return;
        var grouped = _cache!.SelectRows(order.Select(i => (long)i).ToArray());
        _cache.Dispose();
        _cache = grouped;
        var rows = order.Select(i => _rows[i]).ToList();
        _rows.Clear();
        _rows.AddRange(rows);
    }

    void RowsChanged()
    {
        _adapters?.Dispose();
        _adapters = null;
        _adaptersCurrent = false;
    }

    void DropFinished()
    {
        if (_rows.All(r => !r.Finished)) return;
        RowsChanged();
        var keep = _rows.Select((r, i) => (r, i)).Where(x => !x.r.Finished).ToList();
        if (keep.Count == 0)
        {
            _cache?.Dispose();
            _cache = null;
            _rows.Clear();
            return;
        }
        var smaller = _cache!.SelectRows(keep.Select(x => (long)x.i).ToArray());
        _cache.Dispose();
        _cache = smaller;
        _rows.Clear();
        _rows.AddRange(keep.Select(x => x.r));
    }

    /// <summary>Drops every row and the cache (after a failed step).</summary>
    public void Clear()
    {
        RowsChanged();
        _cache?.Dispose();
        _cache = null;
        _rows.Clear();
    }

    public void Dispose() => Clear();
}
