using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Runtime;
using static TorchSharp.torch;

namespace Whetstone.Engine.Training;

/// <summary>Forward (and backward) over the data of one or more runs sharing a network, in as
/// few batched passes as memory allows: rows of different adapters go through the same pass.
/// Rows are sorted by length and cut into chunks under a padded-token budget, so padding stays
/// small and memory bounded; every loss is a sum, so chunking changes nothing numerically
/// beyond summation order, and gradients simply accumulate.</summary>
public static class LearnerPass
{
    // Measured (bench --service): 2048 padded tokens a pass beat 8192 — past that, the [n, L, vocab]
    // logits and their gradient cost more memory traffic per token than larger matmuls save.
    public const int DefaultTokensPerChunk = 2048;

    /// <summary>Throws <see cref="TrainingArgumentException"/> naming the field if the work
    /// cannot run on a model of this config; checks everything Run would, computes nothing.</summary>
    public static void Validate(ModelConfig config, LearnerWork work) => DatumValidator.Check(config, work);

    /// <summary><paramref name="betweenChunks"/> runs after every chunk but the last (the engine
    /// worker decodes there, so a long pass does not hold every stream up).</summary>
    public static IReadOnlyList<LearnerResult> Run(CausalLanguageModel network, IReadOnlyList<LearnerWork> work,
        bool backward, int? tokensPerChunk = null, Action? betweenChunks = null)
    {
        for (int w = 0; w < work.Count; w++) DatumValidator.Check(network.Config, work[w]);

        var rows = work.SelectMany((item, w) => item.Data.Select((datum, d) => (Work: w, Index: d, Datum: datum)))
            .OrderByDescending(r => r.Datum.Length).ToList();
        var logprobs = work.Select(item => new float[item.Data.Count][]).ToArray();
        var losses = new double[work.Count];

        bool first = true;
        foreach (var lengthChunk in Chunks(rows, tokensPerChunk ?? DefaultTokensPerChunk))
        {
            if (!first) betweenChunks?.Invoke();
            first = false;
            // Each run's rows side by side, so its adapter updates a contiguous slice.
            var chunk = lengthChunk.OrderBy(r => r.Work).ToList();
            using var scope = NewDisposeScope();
            using var gradMode = backward ? enable_grad() : no_grad();
            int length = chunk.Max(r => r.Datum.Length);
            var inputs = new long[chunk.Count * length];
            var targets = new long[chunk.Count * length];
            for (int r = 0; r < chunk.Count; r++)
                for (int t = 0; t < chunk[r].Datum.Length; t++)
                {
                    inputs[r * length + t] = chunk[r].Datum.InputTokens[t];
                    targets[r * length + t] = chunk[r].Datum.TargetTokens[t];
                }
            var adapters = AdapterBatch.For(chunk.Select(r => work[r.Work].Adapter).ToArray());
            var tokens = tensor(inputs, [chunk.Count, length], device: network.Device);
            using var routing = ChunkRouting.For(chunk.Select(r => r.Datum).ToArray(), length, network.Config, network.Device);
            var hidden = chunk.Any(r => r.Datum.Images.Count > 0)
                ? network.ForwardWithImages(tokens, chunk.Select(r => r.Datum.Images).ToArray(), adapters)
                : network.Forward(tokens, adapters: adapters, routing: routing);
            var logits = network.Logits(hidden, adapters);                                           // [n, L, V]
            var targetTensor = tensor(targets, [chunk.Count, length], device: network.Device).unsqueeze(-1);
            // log p(target) = logit(target) − logsumexp(logits): avoids a second [n, L, V] tensor.
            var tokenLogprobs = logits.gather(-1, targetTensor).squeeze(-1) - logits.logsumexp(-1);  // [n, L]

            Tensor? total = null;
            var groupLosses = new List<(int Work, Tensor Loss)>();
            foreach (var group in chunk.Select((row, r) => (row, r)).GroupBy(x => x.row.Work))
            {
                var item = work[group.Key];
                var pieces = group.Select(x => tokenLogprobs[x.r, TensorIndex.Slice(0, x.row.Datum.Length)]).ToArray();
                var flat = cat(pieces, 0);
                var loss = item.Loss is LossSpec spec
                    ? spec.Compute(flat,
                        spec.Needs.Weights ? Flat(group.Select(x => x.row.Datum.Weights!), network.Device) : null,
                        spec.Needs.Logprobs ? Flat(group.Select(x => x.row.Datum.Logprobs!), network.Device) : null,
                        spec.Needs.Advantages ? Flat(group.Select(x => x.row.Datum.Advantages!), network.Device) : null)
                    : (flat * Flat(group.Select(x => item.LogprobGradients![x.row.Index]), network.Device)).sum();
                groupLosses.Add((group.Key, loss));
                total = total is null ? loss : total + loss;
            }
            if (backward) total!.backward();

            // The chunk's results leave the device in two copies: the losses, then the logprobs.
            var lossValues = HostCopy.ToArray<double>(stack(groupLosses.Select(g => g.Loss.detach().to(ScalarType.Float64)).ToArray()));
            for (int g = 0; g < groupLosses.Count; g++) losses[groupLosses[g].Work] += lossValues[g];
            var values = HostCopy.ToArray<float>(tokenLogprobs.detach().to(ScalarType.Float32));
            for (int r = 0; r < chunk.Count; r++)
                logprobs[chunk[r].Work][chunk[r].Index] = values.AsSpan(r * length, chunk[r].Datum.Length).ToArray();
        }

        return work.Select((item, w) => new LearnerResult(logprobs[w], losses[w], item.Data.Sum(d => (long)d.Length))).ToArray();
    }

    static Tensor Flat(IEnumerable<IReadOnlyList<float>> lists, Device device) => tensor(lists.SelectMany(l => l).ToArray(), device: device);

    static IEnumerable<List<(int Work, int Index, Datum Datum)>> Chunks(List<(int Work, int Index, Datum Datum)> sortedRows, int tokensPerChunk)
    {
        var chunk = new List<(int, int, Datum)>();
        int longest = 0;
        foreach (var row in sortedRows)
        {
            int nextLongest = Math.Max(longest, row.Datum.Length);
            if (chunk.Count > 0 && nextLongest * (chunk.Count + 1) > tokensPerChunk)
            {
                yield return chunk;
                chunk = [];
                nextLongest = row.Datum.Length;
            }
            chunk.Add(row);
            longest = nextLongest;
        }
        if (chunk.Count > 0) yield return chunk;
    }
}
