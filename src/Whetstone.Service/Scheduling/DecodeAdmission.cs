using Whetstone.Engine.Worker;

namespace Whetstone.Service.Scheduling;

/// <summary>Which waiting decode calls join the running batch this cycle. Rows and prefill are
/// the scarce things: live calls go first (when <see cref="SchedulingOptions.LiveFirst"/>), and
/// within a class owners (tenants, runs) take turns by deficit round-robin on tokens — each round
/// an owner's deficit grows by the quantum, and its oldest call joins once the deficit covers the
/// call's cost (prompt + samples × max_tokens). An owner asking for many long samples thus cannot
/// keep another owner's short calls waiting. Deficits carry over between cycles while an owner
/// waits, and reset when it has nothing waiting. Works on plain records only.</summary>
internal sealed class DecodeAdmission(SchedulingOptions options)
{
    readonly Dictionary<string, long> _deficit = new(StringComparer.Ordinal);

    /// <summary>Removes the admitted calls from <paramref name="waiting"/> (kept in arrival order) and
    /// returns them in admission order. <see cref="Blocked"/> then says whether calls were left
    /// waiting for rows or prefill (rather than for their turn).</summary>
    public List<DecodeCall> Admit(List<DecodeCall> waiting, DecodeLoad load)
    {
        var admitted = new List<DecodeCall>();
        int rows = load.Rows;
        long prefill = 0;
        var classes = options.LiveFirst
            ? new[] { waiting.Where(c => c.Priority == DecodePriority.Live).ToList(), waiting.Where(c => c.Priority != DecodePriority.Live).ToList() }
            : [waiting.ToList()];
        Blocked = false;
        foreach (var calls in classes) Blocked |= !AdmitClass(calls, admitted, ref rows, ref prefill);
        foreach (var call in admitted) waiting.Remove(call);
        foreach (var owner in _deficit.Keys.Where(o => !waiting.Any(c => c.Owner == o)).ToList()) _deficit.Remove(owner);
        return admitted;
    }

    public bool Blocked { get; private set; }

    // False when rows or prefill ran out before the class's calls did.
    bool AdmitClass(List<DecodeCall> calls, List<DecodeCall> admitted, ref int rows, ref long prefill)
    {
        // Owners in the order their oldest call arrived; each owner's calls in arrival order.
        var queues = calls.GroupBy(c => c.Owner).Select(g => (Owner: g.Key, Calls: new Queue<DecodeCall>(g))).ToList();
        while (queues.Count > 0)
        {
            bool blocked = false;
            foreach (var (owner, queue) in queues)
            {
                // Rows or prefill are spent: the round ends, and nobody's deficit grows for it.
                if (!Fits(queue.Peek(), admitted.Count, rows, prefill)) { blocked = true; break; }
                long deficit = _deficit.GetValueOrDefault(owner) + options.QuantumTokens;
                while (queue.TryPeek(out var head) && head.TokenCost <= deficit)
                {
                    if (!Fits(head, admitted.Count, rows, prefill)) { blocked = true; break; }
                    queue.Dequeue();
                    admitted.Add(head);
                    deficit -= head.TokenCost;
                    rows += head.Request.NumSamples;
                    prefill += head.Request.Prompt.Count;
                }
                _deficit[owner] = queue.Count == 0 ? 0 : deficit;
                if (blocked) break;
            }
            if (blocked) return false;
            queues.RemoveAll(q => q.Calls.Count == 0);
        }
        return true;
    }

    // At least one call joins a cycle whatever its prompt, when its rows fit (or nothing decodes:
    // a call with more samples than the row limit then decodes alone).
    bool Fits(DecodeCall call, int admittedCount, int rows, long prefill) =>
        (rows == 0 || rows + call.Request.NumSamples <= options.MaxDecodeRows)
        && (admittedCount == 0 || prefill + call.Request.Prompt.Count <= options.MaxPrefillTokensPerCycle);

    /// <summary>The deficit an owner carries into the next cycle (for tests).</summary>
    public long DeficitOf(string owner) => _deficit.GetValueOrDefault(owner);
}
