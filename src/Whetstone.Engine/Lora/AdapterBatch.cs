using Whetstone.Engine.Runtime;
using TorchSharp;
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
    readonly LoraAdapter?[] _rowAdapters;
    readonly Dictionary<string, (Tensor A, Tensor B, Tensor Scales)> _stacked = new(StringComparer.Ordinal);
    readonly Dictionary<string, (Tensor A, Tensor B, Tensor Mask)> _sideBySide = new(StringComparer.Ordinal);

    /// <summary>Up to this many rows (batch × positions), several adapters' updates are one
    /// product against all their factors side by side (see <see cref="SideBySideDeltas"/>).</summary>
    const long SideBySideRowLimit = 64;

    // Rows: the batch rows of a scattered group on the adapter's device (null when contiguous);
    // RowIds: the same on the host, for masks built there.
    readonly record struct Group(LoraAdapter Adapter, long Start, long Count, Tensor? Rows, long[] RowIds);

    /// <param name="rowAdapters">One entry per batch row.</param>
    public AdapterBatch(IReadOnlyList<LoraAdapter?> rowAdapters)
    {
        foreach (var group in rowAdapters.Select((a, i) => (a, i)).Where(x => x.a is not null).GroupBy(x => x.a!))
        {
            var rows = group.Select(x => (long)x.i).ToArray();
            bool contiguous = rows[^1] - rows[0] + 1 == rows.Length;
            _groups.Add(new Group(group.Key, rows[0], rows.Length, contiguous ? null : tensor(rows, device: group.Key.Device), rows));
        }
        BatchSize = rowAdapters.Count;
        _rowAdapters = rowAdapters.ToArray();
    }

    public int BatchSize { get; }

    /// <summary>The adapter of one batch row (null = base model): what the decode kernel adds per row.</summary>
    internal LoraAdapter? AdapterOf(int row) => _rowAdapters[row];

    /// <summary>The distinct adapters of the batch.</summary>
    internal IEnumerable<LoraAdapter> Adapters => _groups.Select(g => g.Adapter);

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
        if (active.Count > 1 && x.numel() / x.shape[^1] <= SideBySideRowLimit && !is_grad_enabled()
            && SideBySideIsCheap(active, moduleName, x.shape[^1], y.shape[^1]))
            return y + SideBySideDeltas(active, moduleName, x);
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
            var rows = group.Rows ?? RowRange(group.Start, group.Count, y.device);
            y = y.index_add(0, rows, Delta(group, moduleName, x.index_select(0, rows)), Scalars.One);
        }
        return y;
    }

    // Explicit Scalars held across the call (see Runtime/Scalars for why not implicit ones).
    static Tensor RowRange(long start, long count, Device device)
    {
        using var from = start.ToScalar();
        using var to = (start + count).ToScalar();
        return arange(from, to, dtype: ScalarType.Int64, device: device);
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
            if (group.Start > next) pieces.Add(zeros(Shape(y, group.Start - next), y.dtype, device: y.device));
            pieces.Add(Delta(group, moduleName, x.narrow(0, group.Start, group.Count)));
            next = group.Start + group.Count;
        }
        if (next < BatchSize) pieces.Add(zeros(Shape(y, BatchSize - next), y.dtype, device: y.device));
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
            stacked = (stack(factors.Select(w => (Tensor)w.A).ToArray()).to(x.dtype),              // [G, r, in]
                stack(factors.Select(w => (Tensor)w.B).ToArray()).to(x.dtype),                     // [G, out, r]
                tensor(ordered.Select(g => g.Adapter.Scale).ToArray(), dtype: x.dtype, device: x.device).view(groups, 1, 1));
            if (KeepStackedFactors)
            {
                stacked = (stacked.A.detach().DetachFromDisposeScope(), stacked.B.detach().DetachFromDisposeScope(), stacked.Scales.DetachFromDisposeScope());
                _stacked[moduleName] = stacked;
            }
        }
        var (a, b, scales) = stacked;
        long inFeatures = x.shape[^1], outFeatures = y.shape[^1];
        var grouped = x.reshape(groups, -1, inFeatures);                                        // [G, n·T, in]
        var low = bmm(grouped, a.transpose(1, 2)) * scales;                                     // [G, n·T, r]
        return bmm(low, b.transpose(1, 2)).reshape(y.shape);                                    // [B, .., out]
    }

    // The side-by-side product spends rows × Σr × (in + out) multiply-adds, most of them wasted;
    // measured (bench --serving, 30m bf16, 16 adapters): at Σr = 128 (rank 8) it beats the
    // batched matmul (0.85–0.93x vs 0.77–0.84x of one adapter), at Σr = 512 (rank 32) it loses
    // (0.65–0.70x vs 0.72–0.80x). Allowed while that work is at most the base projection's.
    static bool SideBySideIsCheap(List<Group> active, string moduleName, long inFeatures, long outFeatures)
    {
        long width = active.Sum(g => { g.Adapter.TryGet(moduleName, out var w); return w.A.shape[0]; });
        return width * (inFeatures + outFeatures) <= inFeatures * outFeatures;
    }

    // Decode-sized batches with many adapters (a serving step: a row or two per adapter): every
    // row is multiplied by all adapters' A factors side by side ([in, Σr]), a mask keeps each
    // row's own block (carrying its adapter's scale) and zeroes the rest, and one product with
    // the B factors side by side ([Σr, out]) gives every row its own update. Two ordinary
    // matmuls instead of a batched matmul per projection — bf16 bmm of many tiny products is
    // slow on CPU — at the price of rows × Σr wasted multiply-adds, which is small next to the
    // base projection at this row count. Inference only: the factors are cast copies.
    Tensor SideBySideDeltas(List<Group> active, string moduleName, Tensor x)
    {
        if (!_sideBySide.TryGetValue(moduleName, out var sideBySide))
        {
            var factors = active.Select(g => { g.Adapter.TryGet(moduleName, out var w); return (Group: g, Weights: w); }).ToList();
            long width = factors.Sum(f => f.Weights.A.shape[0]);
            var mask = new float[BatchSize * width];
            long offset = 0;
            foreach (var (group, weights) in factors)
            {
                long rank = weights.A.shape[0];
                foreach (long row in group.RowIds)
                    for (long j = 0; j < rank; j++) mask[row * width + offset + j] = (float)group.Adapter.Scale;
                offset += rank;
            }
            sideBySide = (cat(factors.Select(f => (Tensor)f.Weights.A).ToArray(), 0).to(x.dtype).t().contiguous(),   // [in, Σr]
                cat(factors.Select(f => (Tensor)f.Weights.B).ToArray(), 1).to(x.dtype).t().contiguous(),              // [Σr, out]
                tensor(mask, [BatchSize, width], device: x.device).to(x.dtype));
            if (KeepStackedFactors)
            {
                sideBySide = (sideBySide.A.DetachFromDisposeScope(), sideBySide.B.DetachFromDisposeScope(), sideBySide.Mask.DetachFromDisposeScope());
                _sideBySide[moduleName] = sideBySide;
            }
        }
        var (a, b, rowMask) = sideBySide;
        var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();   // [B, 1, …, Σr]: the mask broadcasts over positions
        shape[0] = BatchSize;
        shape[^1] = rowMask.shape[1];
        return matmul(matmul(x, a) * rowMask.view(shape), b);
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
        foreach (var (a, b, mask) in _sideBySide.Values)
        {
            a.Dispose();
            b.Dispose();
            mask.Dispose();
        }
        _sideBySide.Clear();
    }

    public static AdapterBatch? For(IReadOnlyList<LoraAdapter?> rowAdapters) =>
        rowAdapters.All(a => a is null) ? null : new AdapterBatch(rowAdapters);
}
