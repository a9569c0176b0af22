using static TorchSharp.torch;

namespace Whetstone.Engine.Lora;

/// <summary>Which adapter applies to which rows of one forward batch (null = base model only).
/// Rows are grouped by adapter so each projection computes one low-rank product per adapter
/// over just its rows (segmented LoRA, as in Punica / S-LoRA) and adds it back in place.</summary>
public sealed class AdapterBatch
{
    readonly List<(LoraAdapter Adapter, Tensor? Rows)> _groups = [];

    /// <param name="rowAdapters">One entry per batch row.</param>
    public AdapterBatch(IReadOnlyList<LoraAdapter?> rowAdapters)
    {
        foreach (var group in rowAdapters.Select((a, i) => (a, i)).Where(x => x.a is not null).GroupBy(x => x.a!))
        {
            var rows = group.Select(x => (long)x.i).ToArray();
            // One adapter over the whole batch needs no gather/scatter.
            _groups.Add((group.Key, rows.Length == rowAdapters.Count ? null : tensor(rows)));
        }
    }

    public bool IsEmpty => _groups.Count == 0;

    /// <summary>y = base(x) plus each adapter's update on its rows. x: [B, .., in], y: [B, .., out].</summary>
    public Tensor Apply(string moduleName, Tensor x, Tensor y)
    {
        foreach (var (adapter, rows) in _groups)
        {
            if (!adapter.TryGet(moduleName, out var weights)) continue;
            y = rows is null
                ? y + weights.Delta(x, adapter.Scale)
                : y.index_add(0, rows, weights.Delta(x.index_select(0, rows), adapter.Scale), 1.0);
        }
        return y;
    }

    public static AdapterBatch? For(IReadOnlyList<LoraAdapter?> rowAdapters) =>
        rowAdapters.All(a => a is null) ? null : new AdapterBatch(rowAdapters);
}
