using System.Diagnostics;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.LongMemory;

/// <summary>One conversation for the scorer's RL: its lines (what the reader reads), each line's
/// tokens as the value head scores them, its length in the reader's tokens, the budget, and the
/// reward of a memory (the indices of the lines kept, ascending).</summary>
public sealed record SpanRlProblem(IReadOnlyList<string> Lines, IReadOnlyList<IReadOnlyList<int>> ScoredTokens, IReadOnlyList<int> LineTokens,
    int Budget, Func<IReadOnlyList<int>, double> Reward);

/// <summary>Settings of <see cref="SpanValueRlRecipe"/>.</summary>
public sealed record SpanRlOptions
{
    public int Steps { get; init; } = 30;
    /// <summary>Memories sampled per conversation (the group the advantage is normalised in).</summary>
    public int Group { get; init; } = 8;
    public double Temperature { get; init; } = 1.0;
    public double LearningRate { get; init; } = 1e-3;
    public long Seed { get; init; } = 11;
}

/// <summary>What one RL step did: the group's mean reward before the update, and how many lines got a gradient.</summary>
public sealed record SpanRlStep(int Step, double MeanReward, double RewardSpread, int Lines, double MaxValueDrift);

/// <summary>
/// RL for the learned span scorer, through the SDK only: per conversation, G memories are sampled
/// under the budget from the value head's Plackett–Luce policy (<see cref="PlackettLuce"/>: an order
/// drawn from softmax(s / T), filled greedily into B tokens like the served allocator), each is
/// rewarded with the reader's accuracy on the conversation's later questions, the advantage is the
/// reward normalised within the group, and the REINFORCE gradient −(1/G) Σ_g A_g ∂ log π_g / ∂s is
/// sent to the run as binary_logistic data (<see cref="LogisticGradientTarget"/>: one datum per
/// line, label and weight chosen so the loss's gradient in the line's value is exactly that), then
/// one Adam step. Plackett–Luce rather than independent Bernoulli keeps: a Bernoulli keep-set
/// ignores the budget (it must be cut afterwards, which the gradient does not see), while an order
/// filled into B is the served mask with noise, so what RL improves is the ranking the service uses.
/// </summary>
public static class SpanValueRlRecipe
{
    /// <summary>The lines kept when <paramref name="order"/> is filled into the budget (ascending), and
    /// how many picks of the order decided it: after that prefix no line left could fit (by the parts'
    /// counts, which never exceed the joined context's), so the rest of the order changes nothing.</summary>
    public static (IReadOnlyList<int> Kept, int Prefix) Fill(SpanRlProblem problem, IReadOnlyList<int> order, Func<string, int> countJoined)
    {
        var kept = new SortedSet<int>();
        int parts = 0;
        int smallest(int from) => from >= order.Count ? int.MaxValue : order.Skip(from).Min(i => problem.LineTokens[i]);
        for (int k = 0; k < order.Count; k++)
        {
            int i = order[k];
            if (parts + problem.LineTokens[i] <= problem.Budget && countJoined(ContextPacking.Join(problem.Lines, [.. kept, i])) <= problem.Budget)
            {
                kept.Add(i);
                parts += problem.LineTokens[i];
            }
            if (parts + (long)smallest(k + 1) > problem.Budget) return ([.. kept], k + 1);
        }
        return ([.. kept], order.Count);
    }

    /// <summary>The gradient in the logits of the group's surrogate loss
    /// L = −(1/(G·conversations)) Σ_g A_g log π(order_g's first prefix_g picks), with A_g the reward
    /// normalised within the group (mean 0, standard deviation 1); null when all rewards are equal.</summary>
    public static double[]? PolicyGradient(IReadOnlyList<double> logits, IReadOnlyList<(int[] Order, int Prefix, double Reward)> samples, double temperature,
        int conversations = 1)
    {
        double mean = samples.Average(s => s.Reward);
        double std = Math.Sqrt(samples.Average(s => (s.Reward - mean) * (s.Reward - mean)));
        if (std < 1e-9) return null;
        var gradient = new double[logits.Count];
        foreach (var s in samples)
        {
            double advantage = (s.Reward - mean) / std;
            var dlogp = PlackettLuce.LogProbabilityGradient(logits, temperature, s.Order, s.Prefix);
            for (int j = 0; j < gradient.Length; j++) gradient[j] -= advantage * dlogp[j] / (samples.Count * conversations);
        }
        return gradient;
    }

    /// <summary>The binary_logistic data whose loss has <paramref name="gradient"/> in the values <paramref name="logits"/> (lines with no gradient left out).</summary>
    public static IReadOnlyList<(int Line, Datum Datum)> Data(IReadOnlyList<ModelInput> inputs, IReadOnlyList<double> logits, IReadOnlyList<double> gradient)
    {
        var data = new List<(int, Datum)>();
        for (int j = 0; j < gradient.Count; j++)
        {
            if (Math.Abs(gradient[j]) < 1e-9) continue;
            var (label, weight) = LogisticGradientTarget.For(gradient[j], logits[j]);
            data.Add((j, new Datum(inputs[j], new Dictionary<string, TensorData> { ["label"] = TensorData.Float32([label]), ["weight"] = TensorData.Float32([weight]) })));
        }
        return data;
    }

    /// <summary>One step on <paramref name="batch"/>: score, sample, reward, one forward_backward and optim_step.</summary>
    public static async Task<SpanRlStep> StepAsync(TrainingClient run, IReadOnlyList<SpanRlProblem> batch, SpanRlOptions options, int step,
        Func<string, int> countJoined, Random random, CancellationToken cancellationToken = default)
    {
        var data = new List<Datum>();
        var sentValues = new List<double>();
        double rewardSum = 0, spreadSum = 0;
        foreach (var problem in batch)
        {
            var inputs = problem.ScoredTokens.Select(ModelInput.FromTokens).ToArray();
            var logits = (await (await run.ScoreAsync(inputs, cancellationToken)).ResultAsync(cancellationToken)).Values;
            var samples = Enumerable.Range(0, options.Group).Select(_ =>
            {
                var order = PlackettLuce.SampleOrder(logits, options.Temperature, random);
                var (kept, prefix) = Fill(problem, order, countJoined);
                return (Order: order, Prefix: prefix, Reward: problem.Reward(kept));
            }).ToArray();
            double mean = samples.Average(s => s.Reward);
            rewardSum += mean;
            spreadSum += Math.Sqrt(samples.Average(s => (s.Reward - mean) * (s.Reward - mean)));
            var gradient = PolicyGradient(logits, samples.Select(s => (s.Order, s.Prefix, s.Reward)).ToArray(), options.Temperature, batch.Count);
            if (gradient is null) continue;   // every memory scored alike: no signal in this group
            foreach (var (line, datum) in Data(inputs, logits, gradient))
            {
                data.Add(datum);
                sentValues.Add(logits[line]);
            }
        }
        double drift = 0;
        if (data.Count > 0)
        {
            var forwardBackward = await run.ForwardBackwardAsync(data, "binary_logistic", cancellationToken: cancellationToken);
            var optim = await run.OptimStepAsync(new AdamParams { LearningRate = options.LearningRate }, cancellationToken);
            var output = await forwardBackward.ResultAsync(cancellationToken);
            await optim.ResultAsync(cancellationToken);
            // The gradient is exact only at the values the policy was sampled with: the forward pass must see the same ones.
            drift = output.LossFnOutputs.Select((o, i) => Math.Abs((o.Value ?? double.NaN) - sentValues[i])).DefaultIfEmpty(0).Max();
        }
        return new SpanRlStep(step, rewardSum / batch.Count, spreadSum / batch.Count, data.Count, drift);
    }

    /// <summary>The benchmark's conversations as RL problems: lines are the user's lines, scored as
    /// the memory holds them (<see cref="SpanValueRecipe.SpanText"/>), rewarded with the
    /// <see cref="PatternReader"/>'s accuracy on the conversation's questions from the kept lines.</summary>
    public static SpanRlProblem Problem(LongMemoryConversation conversation, int budget, HuggingFaceTokenizer tokenizer)
    {
        int Count(string text) => tokenizer.Encode(text).Count;
        string LastTokens(string text, int n)
        {
            var tokens = tokenizer.Encode(text);
            return tokens.Count <= n ? text : tokenizer.Decode(tokens.Skip(tokens.Count - n));
        }
        var lines = conversation.Turns.Select(t => t.User).ToArray();
        return new SpanRlProblem(lines, lines.Select(l => tokenizer.Encode(SpanValueRecipe.SpanText(l))).ToArray(), lines.Select(Count).ToArray(), budget,
            kept =>
            {
                string context = ContextPacking.Join(lines, kept);
                return conversation.Questions.Count(q => PatternReader.Correct(q, PatternReader.Answer(q.Question, context, LastTokens))) / (double)conversation.Questions.Count;
            });
    }

    /// <summary>RL on the training conversations (<see cref="SpanValueOptions.TrainSeeds"/>), one per step in turn, each step's budget taken in turn from <paramref name="budgets"/>.</summary>
    public static async Task<IReadOnlyList<SpanRlStep>> RunAsync(TrainingClient run, HuggingFaceTokenizer tokenizer, SpanValueOptions conversations,
        int[] budgets, SpanRlOptions options, Action<string> log, CancellationToken cancellationToken = default)
    {
        int Count(string text) => tokenizer.Encode(text).Count;
        var train = conversations.TrainSeeds.Select(s => LongMemoryGenerator.Generate(s, conversations.HistoryTokens, Count)).ToArray();
        var problems = train.SelectMany(c => budgets.Select(b => Problem(c, b, tokenizer))).ToArray();
        var random = new Random((int)options.Seed);
        var steps = new List<SpanRlStep>();
        var clock = Stopwatch.StartNew();
        for (int step = 1; step <= options.Steps; step++)
        {
            var problem = problems[(step - 1) % problems.Length];
            var result = await StepAsync(run, [problem], options, step, Count, random, cancellationToken);
            steps.Add(result);
            if (step % 5 == 0 || step == 1 || step == options.Steps)
                log($"span RL step {step}/{options.Steps} (B = {problem.Budget}): mean reward {result.MeanReward:F3} (spread {result.RewardSpread:F3}), {result.Lines} lines, value drift {result.MaxValueDrift:E1}, {clock.Elapsed.TotalSeconds:F0} s");
        }
        return steps;
    }
}
