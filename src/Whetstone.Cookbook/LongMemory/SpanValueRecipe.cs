using System.Diagnostics;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.LongMemory;

/// <summary>Settings of <see cref="SpanValueRecipe"/>. Train and held-out conversations come from
/// disjoint seeds (different names, places, foods, dates; the same generator templates).</summary>
public sealed record SpanValueOptions(string BaseModel)
{
    public int[] TrainSeeds { get; init; } = [101, 102, 103, 104, 105, 106, 107, 108];
    public int[] HeldOutSeeds { get; init; } = [1, 2, 3];
    public int HistoryTokens { get; init; } = 1_000;
    public int Steps { get; init; } = 60;
    /// <summary>Lines per step: half needed, half not (needed lines are rare, so they are drawn as often as the rest).</summary>
    public int BatchLines { get; init; } = 16;
    public double LearningRate { get; init; } = 3e-3;
    public int Rank { get; init; } = 8;
    public long Seed { get; init; } = 7;
}

/// <summary>One line of a conversation with its hindsight label and the learned value.</summary>
public sealed record ScoredLine(int Seed, int Index, string Text, bool Needed, double Value);

/// <summary>
/// The learned span scorer, through the SDK only: a value_head run (LoRA + a scalar head on the base
/// model) trained with the binary logistic loss on hindsight labels — a line of a generated
/// conversation is "needed" when a later question's evidence is in it (<see cref="Needed"/>) — and
/// then read with score on the lines of held-out conversations. The benchmark compares its values
/// with the heuristic scorer's on the same lines (ranking and reader accuracy under a budget).
/// What it scores is a line on its own, without the memory around it.
/// </summary>
public static class SpanValueRecipe
{
    /// <summary>Hindsight label: some question's evidence string is in the line.</summary>
    public static bool Needed(LongMemoryConversation conversation, string line) =>
        conversation.Questions.Any(q => q.Evidence.Any(e => line.Contains(e, StringComparison.Ordinal)));

    /// <summary>The text the scorer sees for a line: as the memory holds it.</summary>
    public static string SpanText(string line) => $"user: {line}\n";

    public static async Task<(IReadOnlyList<ScoredLine> HeldOut, IReadOnlyList<double> Losses, TrainingClient Run)> RunAsync(ServiceClient client,
        HuggingFaceTokenizer tokenizer, SpanValueOptions options, Action<string> log, CancellationToken cancellationToken = default)
    {
        int Count(string text) => tokenizer.Encode(text).Count;
        var train = options.TrainSeeds.Select(s => LongMemoryGenerator.Generate(s, options.HistoryTokens, Count))
            .SelectMany(c => c.Turns.Select(t => (Text: SpanText(t.User), Needed: Needed(c, t.User)))).ToArray();
        var positives = train.Where(l => l.Needed).ToArray();
        var negatives = train.Where(l => !l.Needed).ToArray();
        if (positives.Length == 0 || negatives.Length == 0) throw new InvalidOperationException("the training conversations need needed and unneeded lines");
        log($"span value: {train.Length} training lines ({positives.Length} needed) from seeds {string.Join(",", options.TrainSeeds)}");

        var run = await client.CreateRewardModelClientAsync(options.BaseModel, options.Rank, options.Seed, cancellationToken);
        var random = new Random((int)options.Seed);
        var adam = new AdamParams { LearningRate = options.LearningRate };
        var losses = new List<double>();
        var clock = Stopwatch.StartNew();
        for (int step = 1; step <= options.Steps; step++)
        {
            var batch = Enumerable.Range(0, options.BatchLines)
                .Select(i => i % 2 == 0 ? positives[random.Next(positives.Length)] : negatives[random.Next(negatives.Length)])
                .Select(l => new Datum(ModelInput.FromTokens(tokenizer.Encode(l.Text)),
                    new Dictionary<string, TensorData> { ["label"] = TensorData.Float32([l.Needed ? 1f : 0f]) }))
                .ToArray();
            var forwardBackward = await run.ForwardBackwardAsync(batch, "binary_logistic", cancellationToken: cancellationToken);
            var optim = await run.OptimStepAsync(adam, cancellationToken);
            var output = await forwardBackward.ResultAsync(cancellationToken);
            await optim.ResultAsync(cancellationToken);
            losses.Add(output.Metrics["loss:sum"] / batch.Length);
            if (step % 10 == 0 || step == 1 || step == options.Steps)
                log($"span value step {step}/{options.Steps}: loss {losses[^1]:F4} per line (ln 2 = {Math.Log(2):F4} is chance), batch accuracy {output.Metrics["accuracy"]:P0}, {clock.Elapsed.TotalSeconds:F0} s");
        }

        var heldOut = new List<ScoredLine>();
        foreach (int seed in options.HeldOutSeeds)
        {
            var conversation = LongMemoryGenerator.Generate(seed, options.HistoryTokens, Count);
            var inputs = conversation.Turns.Select(t => ModelInput.FromTokens(tokenizer.Encode(SpanText(t.User)))).ToArray();
            var values = (await (await run.ScoreAsync(inputs, cancellationToken)).ResultAsync(cancellationToken)).Values;
            heldOut.AddRange(conversation.Turns.Select((t, i) => new ScoredLine(seed, i, t.User, Needed(conversation, t.User), values[i])));
        }
        return (heldOut, losses, run);
    }

    /// <summary>The probability that a needed line scores above an unneeded one (ties count half): the ranking's AUC.</summary>
    public static double Auc(IReadOnlyList<(bool Needed, double Value)> lines)
    {
        var pos = lines.Where(l => l.Needed).Select(l => l.Value).ToArray();
        var neg = lines.Where(l => !l.Needed).Select(l => l.Value).ToArray();
        if (pos.Length == 0 || neg.Length == 0) return double.NaN;
        double wins = pos.Sum(p => neg.Sum(n => p > n ? 1.0 : p == n ? 0.5 : 0.0));
        return wins / ((double)pos.Length * neg.Length);
    }
}
