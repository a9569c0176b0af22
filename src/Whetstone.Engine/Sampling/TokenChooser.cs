using TorchSharp;
using Whetstone.Engine.Runtime;
using static TorchSharp.torch;

namespace Whetstone.Engine.Sampling;

/// <summary>Picks the next token of every row of a decode batch at once, each row with its own
/// temperature, top-k, top-p and random stream. Draws use inverse-CDF sampling with a uniform
/// number from the row's own seeded generator, so a row's tokens depend only on its seed and
/// its logits — not on which other rows share the batch.</summary>
internal static class TokenChooser
{
    public interface IRow
    {
        SamplingParams Params { get; }
        Random Random { get; }
        /// <summary>Empty for a plain row: then its logits are used as they are.</summary>
        IReadOnlyList<ILogitsProcessor> Processors { get; }
    }

    /// <summary>logits: [R, V] fp32. Returns the chosen tokens and their unmodified logprobs
    /// (the model's, before any row's processors).</summary>
    public static (long[] Tokens, float[] Logprobs) Choose(Tensor logits, IReadOnlyList<IRow> rows)
    {
        using var scope = NewDisposeScope();
        long vocab = logits.shape[1];
        var device = logits.device;
        var logprobs = logits.log_softmax(-1);
        logits = Processed(logits, rows);
        var greedy = logits.argmax(-1);
        Tensor chosen;
        if (rows.All(r => r.Params.Temperature == 0))
        {
            chosen = greedy;
        }
        else
        {
            var temperatures = tensor(rows.Select(r => r.Params.Temperature == 0 ? 1f : (float)r.Params.Temperature).ToArray(), device: device).unsqueeze(1);
            var scaled = logits / temperatures;
            var uniforms = tensor(rows.Select(r => (float)(1.0 - r.Random.NextDouble())).ToArray(), device: device).unsqueeze(1);  // (0, 1]
            bool truncate = rows.Any(r => r.Params.TopK > 0 || r.Params.TopP < 1);
            Tensor drawn;
            if (truncate)
            {
                var (sorted, order) = scaled.sort(-1, descending: true);
                var probs = sorted.softmax(-1);
                var topK = tensor(rows.Select(r => r.Params.TopK > 0 ? (long)r.Params.TopK : vocab).ToArray(), device: device).unsqueeze(1);
                var topP = tensor(rows.Select(r => (float)r.Params.TopP).ToArray(), device: device).unsqueeze(1);
                using var vocabSize = vocab.ToScalar();
                var rank = arange(vocabSize, dtype: ScalarType.Int64, device: device).unsqueeze(0);
                // A token stays if it is among the k best and the mass before it is below top_p;
                // the most likely token always stays.
                var keep = (rank < topK).logical_and((probs.cumsum(-1) - probs) < topP);
                var kept = probs * keep.to(ScalarType.Float32);
                drawn = order.gather(1, InverseCdf(kept, uniforms).unsqueeze(1)).squeeze(1);
            }
            else
            {
                drawn = InverseCdf(scaled.softmax(-1), uniforms);
            }
            var isGreedy = tensor(rows.Select(r => r.Params.Temperature == 0).ToArray(), device: device);
            chosen = where(isGreedy, greedy, drawn);
        }
        var chosenLogprobs = logprobs.gather(1, chosen.unsqueeze(1)).squeeze(1);
        // The step's one device-to-host copy: tokens and logprobs side by side (token ids are exact
        // in fp64). On the CPU the two are read in place instead.
        if (device.type == TorchSharp.DeviceType.CPU)
            return (chosen.data<long>().ToArray(), chosenLogprobs.to(ScalarType.Float32).data<float>().ToArray());
        var both = HostCopy.ToArray<double>(stack([chosen.to(ScalarType.Float64), chosenLogprobs.to(ScalarType.Float64)]));   // [2, R]
        int count = rows.Count;
        return (both.Take(count).Select(t => (long)t).ToArray(), both.Skip(count).Select(l => (float)l).ToArray());
    }

    /// <summary>The logits with each row's processors applied; the same tensor when no row has any.
    /// Only rows with processors are copied out to the host and back (processors such as the JSON
    /// constraint are host code; rows without one never leave the device).</summary>
    static Tensor Processed(Tensor logits, IReadOnlyList<IRow> rows)
    {
        if (rows.All(r => r.Processors.Count == 0)) return logits;
        var processed = logits.to(ScalarType.Float32).clone();
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Processors.Count == 0) continue;
            var row = processed[i].cpu().data<float>().ToArray();
            foreach (var p in rows[i].Processors) p.Apply(row);
            processed[i].copy_(tensor(row, device: processed.device));
        }
        return processed;
    }

    // probs: [R, V] (not necessarily normalised), u: [R, 1] in (0, 1] → index of the first
    // entry whose cumulative mass reaches u · total.
    static Tensor InverseCdf(Tensor probs, Tensor uniforms)
    {
        var cdf = probs.cumsum(-1);
        var target = uniforms * cdf[TensorIndex.Colon, TensorIndex.Slice(-1)];
        using var last = (probs.shape[1] - 1).ToScalar();
        return (cdf < target).sum(-1).clamp_max(last);
    }
}
