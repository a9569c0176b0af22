using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Training;

/// <summary>A reward model's sequences: scored alone (no loss), or with a value loss and, for
/// binary_logistic, one label per sequence; optionally one non-negative weight per sequence
/// (both entries of a Bradley-Terry pair carry the pair's weight).</summary>
public sealed record ValueWork(IReadOnlyList<IReadOnlyList<int>> Sequences)
{
    public ValueLoss? Loss { get; init; }
    public IReadOnlyList<float>? Labels { get; init; }
    public IReadOnlyList<float>? Weights { get; init; }
}

/// <summary>One value per sequence; the summed loss (0 without one); pairwise or label accuracy.</summary>
public sealed record ValueResult(IReadOnlyList<double> Values, double Loss, double Accuracy, long Tokens)
{
    public IReadOnlyDictionary<string, double> Metrics => new Dictionary<string, double>
    {
        ["loss:sum"] = Loss,
        ["accuracy"] = Accuracy,
        ["tokens:sum"] = Tokens,
    };
}

/// <summary>
/// Forward (and backward) of a value-head adapter: the network with the adapter, the final hidden
/// state at each sequence's last token, the head. Sequences go through in length-sorted chunks
/// under a padded-token budget, like the learner's. A Bradley-Terry pair may straddle two chunks,
/// so the backward pass differentiates in two steps: a no-grad pass gives every value, the loss
/// and dL/dv are computed on those (fp64, autograd), and a second pass backpropagates Σ v · dL/dv
/// chunk by chunk — the same linear surrogate as custom losses, exact by the chain rule.
/// </summary>
public static class ValuePass
{
    public static ValueResult Run(CausalLanguageModel network, LoraAdapter adapter, ValueWork work, bool backward, int? tokensPerChunk = null)
    {
        Validate(network.Config, adapter, work);
        var head = adapter.ValueHead!;
        var order = Enumerable.Range(0, work.Sequences.Count).OrderByDescending(i => work.Sequences[i].Count).ToList();
        var chunks = Chunks(order, work.Sequences, tokensPerChunk ?? LearnerPass.DefaultTokensPerChunk).ToList();
        var values = new double[work.Sequences.Count];
        using (no_grad())
            foreach (var chunk in chunks)
            {
                using var scope = NewDisposeScope();
                var chunkValues = Values(network, adapter, head, work.Sequences, chunk).to(ScalarType.Float64).data<double>().ToArray();
                for (int r = 0; r < chunk.Count; r++) values[chunk[r]] = chunkValues[r];
            }

        double loss = 0, accuracy = 0;
        if (work.Loss is ValueLoss valueLoss)
        {
            double[] gradient;
            using (var scope = NewDisposeScope())
            using (enable_grad())
            {
                var v = tensor(values, dtype: ScalarType.Float64).requires_grad_(true);
                var labels = work.Labels is null ? null : tensor(work.Labels.Select(l => (double)l).ToArray(), dtype: ScalarType.Float64);
                var weights = work.Weights is null ? null : tensor(work.Weights.Select(w => (double)w).ToArray(), dtype: ScalarType.Float64);
                var total = valueLoss.Compute(v, labels, weights);
                loss = total.item<double>();
                total.backward();
                gradient = v.grad!.data<double>().ToArray();
            }
            accuracy = valueLoss.Accuracy(values, work.Labels);
            if (backward)
                foreach (var chunk in chunks)
                {
                    using var scope = NewDisposeScope();
                    using var grad = enable_grad();
                    var chunkValues = Values(network, adapter, head, work.Sequences, chunk);
                    var dLdv = tensor(chunk.Select(i => gradient[i]).ToArray(), dtype: ScalarType.Float64).to(chunkValues.dtype);
                    (chunkValues * dLdv).sum().backward();
                }
        }
        return new ValueResult(values, loss, accuracy, work.Sequences.Sum(s => (long)s.Count));
    }

    // [n] values of the chunk's sequences, right-padded; causal attention keeps padding from
    // reaching any real token, so the last real token's state is that of the sequence alone.
    static Tensor Values(CausalLanguageModel network, LoraAdapter adapter, ValueHead head, IReadOnlyList<IReadOnlyList<int>> sequences, List<int> chunk)
    {
        int length = chunk.Max(i => sequences[i].Count);
        var tokens = new long[chunk.Count * length];
        var last = new long[chunk.Count];
        for (int r = 0; r < chunk.Count; r++)
        {
            var sequence = sequences[chunk[r]];
            for (int t = 0; t < sequence.Count; t++) tokens[r * length + t] = sequence[t];
            last[r] = sequence.Count - 1;
        }
        var adapters = AdapterBatch.For(Enumerable.Repeat<LoraAdapter?>(adapter, chunk.Count).ToArray());
        var hidden = network.Forward(tensor(tokens, [chunk.Count, length]), adapters: adapters);             // [n, L, H]
        var index = tensor(last).view(-1, 1, 1).expand(-1, 1, hidden.shape[2]);
        var lastHidden = hidden.gather(1, index).squeeze(1);                                                 // [n, H]
        return head.Score(lastHidden);                                                                       // [n]
    }

    static IEnumerable<List<int>> Chunks(List<int> sortedIndices, IReadOnlyList<IReadOnlyList<int>> sequences, int tokensPerChunk)
    {
        var chunk = new List<int>();
        int longest = 0;
        foreach (var i in sortedIndices)
        {
            int next = Math.Max(longest, sequences[i].Count);
            if (chunk.Count > 0 && next * (chunk.Count + 1) > tokensPerChunk)
            {
                yield return chunk;
                chunk = [];
                next = sequences[i].Count;
            }
            chunk.Add(i);
            longest = next;
        }
        if (chunk.Count > 0) yield return chunk;
    }

    /// <summary>Throws <see cref="TrainingArgumentException"/> naming the field; computes nothing.</summary>
    /// <param name="sequencesField">How the request names the sequences: "data" (forward,
    /// forward_backward: data[i].model_input) or, for score, "inputs" (inputs[i]).</param>
    public static void Validate(ModelConfig config, LoraAdapter? adapter, ValueWork work, string sequencesField = "data")
    {
        if (adapter?.ValueHead is null)
            throw new TrainingArgumentException(work.Loss is null ? "value_head" : "loss_fn",
                $"{(work.Loss is null ? "scoring" : $"'{work.Loss.Name}'")} needs a run created with value_head = true");
        if (work.Sequences.Count == 0) throw new TrainingArgumentException(sequencesField, "is empty");
        for (int i = 0; i < work.Sequences.Count; i++)
        {
            var sequence = work.Sequences[i];
            string field = sequencesField == "data" ? $"data[{i}].model_input" : $"{sequencesField}[{i}]";
            if (sequence.Count == 0) throw new TrainingArgumentException(field, "is empty");
            if (sequence.Count > config.MaxPositionEmbeddings)
                throw new TrainingArgumentException(field, $"has {sequence.Count} tokens, more than the model's maximum of {config.MaxPositionEmbeddings}");
            for (int t = 0; t < sequence.Count; t++)
                if (sequence[t] < 0 || sequence[t] >= config.VocabSize)
                    throw new TrainingArgumentException(field, $"[{t}] = {sequence[t]} is outside the vocabulary [0, {config.VocabSize})");
        }
        if (work.Loss?.Function == ValueLoss.Kind.BradleyTerry && work.Sequences.Count % 2 != 0)
            throw new TrainingArgumentException("data", $"has {work.Sequences.Count} entries; bradley_terry takes pairs laid out [chosen, rejected, …]");
        if (work.Weights is { } weights)
        {
            if (work.Loss is null) throw new TrainingArgumentException("data", "weights apply to a loss; scoring takes none");
            if (weights.Count != work.Sequences.Count)
                throw new TrainingArgumentException("data", $"has {weights.Count} weights for {work.Sequences.Count} entries; give one per datum or none");
            for (int i = 0; i < weights.Count; i++)
            {
                if (!(weights[i] >= 0 && float.IsFinite(weights[i])))
                    throw new TrainingArgumentException($"data[{i}].loss_fn_inputs.weight", $"= {weights[i]} must be a finite number ≥ 0");
                if (work.Loss.Function == ValueLoss.Kind.BradleyTerry && i % 2 == 1 && weights[i] != weights[i - 1])
                    throw new TrainingArgumentException($"data[{i}].loss_fn_inputs.weight", $"= {weights[i]} differs from its chosen entry's {weights[i - 1]}: a pair has one weight");
            }
        }
        if (work.Loss?.NeedsLabels == true)
        {
            if (work.Labels is null || work.Labels.Count != work.Sequences.Count)
                throw new TrainingArgumentException("data", "binary_logistic needs a label (loss_fn_inputs.label) for every datum");
            for (int i = 0; i < work.Labels.Count; i++)
                if (!(work.Labels[i] >= 0 && work.Labels[i] <= 1))
                    throw new TrainingArgumentException($"data[{i}].loss_fn_inputs.label", $"= {work.Labels[i]} must be in [0, 1] (1 = thumbs up, 0 = thumbs down)");
        }
    }
}
