using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Tokenization;

namespace Whetstone.Engine.Worker;

/// <summary>The one decode loop of one network, for every kind of sampling: a running
/// <see cref="DecodeBatch"/> that calls join between steps (one batched prefill, each prompt
/// once for all its samples) and leave when done or cancelled. Each row's tokens are published to
/// its call's stream as they come; a call completes with its <see cref="SampleResult"/> when its
/// last row finishes. A call with a <see cref="DecodeCall.PrefixKey"/> that joins alone reuses the
/// KV kept in <paramref name="prefixes"/> (the base model's loop only). Runs on the worker's thread only.</summary>
internal sealed class DecodeLoop(CausalLanguageModel network, HuggingFaceTokenizer tokenizer, Action<WorkerCall, Func<object>> complete,
    PrefixKvStore? prefixes = null) : IDisposable
{
    readonly DecodeBatch _batch = new(network, tokenizer);
    readonly Dictionary<DecodeCall, CallRows> _calls = new(ReferenceEqualityComparer.Instance);

    sealed class CallRows(IReadOnlyList<DecodeRow> rows, int reusedTokens)
    {
        public IReadOnlyList<DecodeRow> Rows { get; } = rows;
        /// <summary>Prompt tokens whose KV came from the prefix store instead of the prefill.</summary>
        public int ReusedTokens { get; } = reusedTokens;
        public int Open { get; set; } = rows.Count;
    }

    public int Rows => _batch.Count;
    public bool IsEmpty => _calls.Count == 0;

    /// <summary>Rows decoding now, per owner, and how many of them are live.</summary>
    public void AddLoad(Dictionary<string, int> rowsByOwner, ref int liveRows)
    {
        foreach (var (call, rows) in _calls)
        {
            rowsByOwner[call.Owner] = rowsByOwner.GetValueOrDefault(call.Owner) + rows.Open;
            if (call.Priority == DecodePriority.Live) liveRows += rows.Open;
        }
    }

    public bool HasLive => _calls.Keys.Any(c => c.Priority == DecodePriority.Live);

    /// <summary>Prefills the calls together and adds their rows; a call whose samples all end on
    /// the first token completes at once.</summary>
    public void Join(IReadOnlyList<(DecodeCall Call, SampleRequest Request)> joining)
    {
        var fresh = new List<(DecodeCall Call, SampleRequest Request)>();
        foreach (var x in joining)
        {
            if (x.Call.Cancellation.IsCancellationRequested) Cancelled(x.Call);
            else fresh.Add(x);
        }
        if (fresh.Count == 0) return;
        IReadOnlyList<DecodeRow> rows;
        int reused = 0;
        try
        {
            // Reuse only where it is exact and simple: one call prefilling alone on the base model.
            if (fresh is [var only] && only.Call.PrefixKey is { } key && prefixes is not null && PrefixPrefill.Eligible(only.Request))
                (rows, reused) = _batch.JoinAfterPrefix(only.Request, only.Call, prefixes, key, only.Call.KeepPrefix);
            else rows = _batch.Join(fresh.Select(x => x.Request).ToArray(), fresh.Select(x => (object?)x.Call).ToArray());
        }
        catch (Exception e)
        {
            foreach (var (call, _) in fresh) Fail(call, e);
            return;
        }
        foreach (var (call, _) in fresh)
        {
            _calls[call] = new CallRows(rows.Where(r => ReferenceEquals(r.Owner, call)).ToArray(), reused);
            call.Stream?.Joined();
        }
        foreach (var row in rows) Advanced(row);
    }

    /// <summary>One token for every row. Returns how many tokens it produced.</summary>
    public int Step()
    {
        foreach (var call in _calls.Keys.Where(c => c.Cancellation.IsCancellationRequested).ToList())
        {
            foreach (var row in _calls[call].Rows) DecodeBatch.Cancel(row);
            Cancelled(call);
        }
        if (_batch.Count == 0) return 0;
        IReadOnlyList<DecodeRow> stepped;
        try { stepped = _batch.Step(); }
        catch (Exception e)
        {
            // A failed step leaves the cache in an unknown state: every row fails, the batch restarts.
            foreach (var call in _calls.Keys.ToList()) Fail(call, e);
            _batch.Clear();
            throw;
        }
        foreach (var row in stepped) Advanced(row);
        return stepped.Count;
    }

    void Advanced(DecodeRow row)
    {
        var call = (DecodeCall)row.Owner!;
        if (!_calls.TryGetValue(call, out var rows)) return;
        call.Stream?.Publish(row);
        if (!row.Finished || --rows.Open > 0) return;
        _calls.Remove(call);
        call.Usage = call.Usage with
        {
            PrefillTokens = call.Request.Prompt.Count - rows.ReusedTokens, ReusedPrefixTokens = rows.ReusedTokens, SampledTokens = rows.Rows.Sum(r => (long)r.Tokens.Count),
        };
        call.Stream?.End(null);
        var result = DecodeRow.Result(rows.Rows);
        complete(call, () => result);
    }

    void Cancelled(DecodeCall call)
    {
        _calls.Remove(call);
        var error = new OperationCanceledException(call.Cancellation);
        call.Stream?.End(error);
        complete(call, () => throw error);
    }

    void Fail(DecodeCall call, Exception error)
    {
        _calls.Remove(call);
        call.Stream?.End(error);
        complete(call, () => throw error);
    }

    /// <summary>Fails what is still decoding (the worker is stopping) and frees the cache.</summary>
    public void Dispose()
    {
        foreach (var call in _calls.Keys.ToList()) Fail(call, new ObjectDisposedException("the engine worker is stopping"));
        _batch.Dispose();
    }
}
