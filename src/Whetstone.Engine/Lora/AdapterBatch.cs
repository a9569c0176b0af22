using static TorchSharp.torch;

namespace Whetstone.Engine.Lora;

/// <summary>Which adapter applies to which rows of one forward batch (null = base model only).
/// Rows are grouped by adapter so each projection computes one low-rank product per adapter
/// over just its rows (segmented LoRA, as in Punica / S-LoRA) and adds it into those rows.
/// Callers that keep each adapter's rows contiguous (the learner and the sampler do) get plain
/// slices; scattered rows fall back to gather / index_add.</summary>
public sealed class AdapterBatch : IDisposable
{
    readonly List<Group> _groups = [];
    readonly Dictionary<string, (Tensor A, Tensor B, Tensor Scales)> _stacked = new(StringComparer.Ordinal);

    readonly record struct Group(LoraAdapter Adapter, long Start, long Count, Tensor? Rows);

    /// <param name="rowAdapters">One entry per batch row.</param>
    public AdapterBatch(IReadOnlyList<LoraAdapter?> rowAdapters)
    {
        foreach (var group in rowAdapters.Select((a, i) => (a, i)).Where(x => x.a is not null).GroupBy(x => x.a!))
        {
            var rows = group.Select(x => (long)x.i).ToArray();
            bool contiguous = rows[^1] - rows[0] + 1 == rows.Length;
            _groups.Add(new Group(group.Key, rows[0], rows.Length, contiguous ? null : tensor(rows)));
        }
        BatchSize = rowAdapters.Count;
    }

    public int BatchSize { get; }

    /// <summary>Keep each projection's stacked factors for the next forward over this same batch
    /// (a decode batch whose rows have not changed steps many times): the stacking copy is then
    /// paid once, not per step. Only for inference — no gradient reaches the adapters through
    /// the kept copies. Dispose the batch to free them.</summary>
    public bool KeepStackedFactors { get; init; }

    /// <summary>y = base(x) plus each adapter's update on its rows. x: [B, .., in], y: [B, .., out].</summary>
    public Tensor Apply(string moduleName, Tensor x, Tensor y)
    {
        var active = _groups.Where(g => g.Adapter.TryGet(moduleName, out _)).ToList();
        if (active.Count == 0) return y;
        if (active.Count == 1 && active[0].Count == BatchSize)
            return y + Delta(active[0], moduleName, x);
        if (active.All(g => g.Rows is null))
        {
            // Measured (bench --training, 120m): stacking wins in bf16, where it saves two casts of
            // the fp32 factors per adapter; in fp32 per-adapter matmuls beat CPU bmm.
            bool halfPrecision = x.dtype is ScalarType.BFloat16 or ScalarType.Float16;
            if (halfPrecision && CoversBatchEvenly(active)) return y + StackedDeltas(active, moduleName, x, y);
            return y + ContiguousDeltas(active, moduleName, x, y);
        }
        foreach (var group in active)
        {
            var rows = group.Rows ?? arange(group.Start, group.Start + group.Count, dtype: ScalarType.Int64);
            y = y.index_add(0, rows, Delta(group, moduleName, x.index_select(0, rows)), 1.0);
        }
        return y;
    }

    static Tensor Delta(Group group, string moduleName, Tensor x)
    {
        group.Adapter.TryGet(moduleName, out var weights);
        return weights.Delta(x, group.Adapter.Scale);
    }

    // Each adapter's rows are one slice: compute each slice's update on a view of x and lay the
    // pieces (zeros for rows without an update) end to end — one concatenation and one add,
    // rather than a scatter per adapter.
    Tensor ContiguousDeltas(List<Group> active, string moduleName, Tensor x, Tensor y)
    {
        var pieces = new List<Tensor>();
        long next = 0;
        foreach (var group in active.OrderBy(g => g.Start))
        {
            if (group.Start > next) pieces.Add(zeros(Shape(y, group.Start - next), y.dtype));
            pieces.Add(Delta(group, moduleName, x.narrow(0, group.Start, group.Count)));
            next = group.Start + group.Count;
        }
        if (next < BatchSize) pieces.Add(zeros(Shape(y, BatchSize - next), y.dtype));
        return cat(pieces, 0);
    }

    // Every row adapted, each adapter over the same number of rows with the same rank: the
    // grouped product is two batched matmuls over the stacked factors ([G, n, in] · [G, in, r]
    // · [G, r, out]) instead of two small matmuls and two casts per adapter.
    bool CoversBatchEvenly(List<Group> active) =>
        active.Count > 1
        && active.Sum(g => g.Count) == BatchSize
        && active.All(g => g.Count == active[0].Count && g.Adapter.Config.Rank == active[0].Adapter.Config.Rank);

    Tensor StackedDeltas(List<Group> active, string moduleName, Tensor x, Tensor y)
    {
        int groups = active.Count;
        if (!_stacked.TryGetValue(moduleName, out var stacked))
        {
            var ordered = active.OrderBy(g => g.Start).ToList();
            var factors = ordered.Select(g => { g.Adapter.TryGet(moduleName, out var w); return w; }).ToList();
            // Stored transposed and contiguous: bmm on transposed views would copy them every call.
            stacked = (stack(factors.Select(w => (Tensor)w.A).ToArray()).to(x.dtype).transpose(1, 2).contiguous(),   // [G, in, r]
                stack(factors.Select(w => (Tensor)w.B).ToArray()).to(x.dtype).transpose(1, 2).contiguous(),          // [G, r, out]
                tensor(ordered.Select(g => g.Adapter.Scale).ToArray(), dtype: x.dtype).view(groups, 1, 1));
            if (KeepStackedFactors)
            {
                stacked = (stacked.A.detach().DetachFromDisposeScope(), stacked.B.detach().DetachFromDisposeScope(), stacked.Scales.DetachFromDisposeScope());
                _stacked[moduleName] = stacked;
            }
        }
        var (a, b, scales) = stacked;   // a: Aᵀ [G, in, r], b: Bᵀ [G, r, out]
        long inFeatures = x.shape[^1], outFeatures = y.shape[^1];
        var grouped = x.reshape(groups, -1, inFeatures);                                        // [G, n·T, in]
        var low = bmm(grouped, a) * scales;                                                     // [G, n·T, r]
        return bmm(low, b).reshape(y.shape);                                                    // [B, .., out]
    }

    static long[] Shape(Tensor like, long rows)
    {
        var shape = like.shape.ToArray();
        shape[0] = rows;
        return shape;
    }

    public void Dispose()
    {
        foreach (var (a, b, scales) in _stacked.Values)
        {
            a.Dispose();
            b.Dispose();
            scales.Dispose();
        }
        _stacked.Clear();
    }

    public static AdapterBatch? For(IReadOnlyList<LoraAdapter?> rowAdapters) =>
        rowAdapters.All(a => a is null) ? null : new AdapterBatch(rowAdapters);
}
