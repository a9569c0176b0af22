using Whetstone.Client;
using Whetstone.Cookbook.LongMemory;
using Whetstone.Engine.Training;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Service.Tests.Memory;

/// <summary>RL for the learned span scorer through the training API (SpanValueRlRecipe): the data it
/// sends make the engine's binary_logistic loss have exactly the REINFORCE gradient (autograd of the
/// engine's loss against finite differences of the surrogate), and on a toy where one kind of line is
/// always needed, RL on a fresh value head raises that kind's rank until the greedy memory keeps it.</summary>
public class SpanValueRlTests
{
    static readonly HuggingFaceTokenizer Tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);

    [Fact]
    public void EngineLossGradientOfTheSentDataIsTheReinforceGradient()
    {
        double[] logits = [0.7, -1.2, 2.1, 0.0, -0.4, 3.5];
        var samples = new (int[] Order, int Prefix, double Reward)[]
        {
            ([2, 0, 4, 1, 3, 5], 2, 1.0), ([1, 3, 0, 2, 4, 5], 3, 0.0), ([5, 2, 1, 3, 4, 0], 2, 0.5), ([4, 1, 2, 0, 3, 5], 4, 0.25),
        };
        const double temperature = 2.0;
        // The REINFORCE loss −(1/G) Σ A_g log π_g, differentiated numerically (fp64, written out here).
        double mean = samples.Average(s => s.Reward), std = Math.Sqrt(samples.Average(s => (s.Reward - mean) * (s.Reward - mean)));
        double Loss(double[] s) => -samples.Sum(x => (x.Reward - mean) / std * PlackettLuce.LogProbability(s, temperature, x.Order, x.Prefix)) / samples.Length;
        var numeric = new double[logits.Length];
        for (int j = 0; j < logits.Length; j++)
        {
            var up = (double[])logits.Clone(); up[j] += 1e-6;
            var down = (double[])logits.Clone(); down[j] -= 1e-6;
            numeric[j] = (Loss(up) - Loss(down)) / 2e-6;
        }

        // What the recipe sends, through the engine's own loss, differentiated by autograd.
        var gradient = SpanValueRlRecipe.PolicyGradient(logits, samples, temperature)!;
        var inputs = logits.Select((_, i) => ModelInput.FromTokens([i + 1])).ToArray();
        var data = SpanValueRlRecipe.Data(inputs, logits, gradient);
        var values = tensor(data.Select(d => logits[d.Line]).ToArray(), dtype: ScalarType.Float64).requires_grad_();
        var labels = tensor(data.Select(d => (double)d.Datum.LossFnInputs!["label"].Data[0]).ToArray(), dtype: ScalarType.Float64);
        var weights = tensor(data.Select(d => (double)d.Datum.LossFnInputs!["weight"].Data[0]).ToArray(), dtype: ScalarType.Float64);
        new ValueLoss(ValueLoss.Kind.BinaryLogistic).Compute(values, labels, weights).backward();
        var autograd = values.grad!.data<double>().ToArray();
        var sent = new double[logits.Length];
        for (int k = 0; k < data.Count; k++) sent[data[k].Line] = autograd[k];
        for (int j = 0; j < logits.Length; j++) Assert.Equal(numeric[j], sent[j], 5);   // weights travel as float32
    }

    [Fact]
    public async Task RlRaisesTheRankOfTheKindOfLineThatIsAlwaysNeeded()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        using var sdk = await TestServers.ClientAsync(server, "alice");
        var head = await sdk.CreateRewardModelClientAsync(TestServers.ModelName, rank: 4, seed: 5);
        int Count(string text) => Tokenizer.Encode(text).Count;

        // Two code lines among six of small talk; the budget holds about two lines; reward = share of code lines kept.
        SpanRlProblem Toy(int i)
        {
            string[] lines = [.. Enumerable.Range(0, 6).Select(k => MemoryChat.SmallTalk(i * 10 + k)), $"My code is {4000 + 37 * i}.", $"My pin is {1000 + 53 * i}."];
            var shuffle = new Random(i);
            lines = [.. lines.OrderBy(_ => shuffle.Next())];   // a fixed shuffle per problem
            var counts = lines.Select(Count).ToArray();
            var needed = lines.Select((l, k) => (l, k)).Where(x => x.l.StartsWith("My ")).Select(x => x.k).ToArray();
            int budget = needed.Sum(k => counts[k]) + 2;
            return new SpanRlProblem(lines, lines.Select(l => Tokenizer.Encode($"user: {l}\n")).ToArray(), counts, budget,
                kept => kept.Count(needed.Contains) / (double)needed.Length);
        }
        var heldOut = Enumerable.Range(500, 6).Select(Toy).ToArray();
        async Task<(double Gap, double Greedy)> MeasureAsync()
        {
            double gap = 0, greedy = 0;
            foreach (var p in heldOut)
            {
                var s = (await (await head.ScoreAsync(p.ScoredTokens.Select(ModelInput.FromTokens).ToArray())).ResultAsync()).Values;
                var code = Enumerable.Range(0, s.Count).Where(k => p.Lines[k].StartsWith("My ")).ToArray();
                gap += code.Average(k => s[k]) - Enumerable.Range(0, s.Count).Except(code).Average(k => s[k]);
                // The served mask: best score first, while it fits.
                greedy += p.Reward(SpanValueRlRecipe.Fill(p, [.. Enumerable.Range(0, s.Count).OrderByDescending(k => s[k])], Count).Kept);
            }
            return (gap / heldOut.Length, greedy / heldOut.Length);
        }

        var before = await MeasureAsync();
        var options = new SpanRlOptions { Group = 8, Temperature = 1, LearningRate = 2e-2 };
        var random = new Random(9);
        var steps = new List<SpanRlStep>();
        for (int step = 1; step <= 16; step++)
            steps.Add(await SpanValueRlRecipe.StepAsync(head, [Toy(step), Toy(step + 100)], options, step, Count, random));
        var after = await MeasureAsync();

        string trace = $"logit gap (code − small talk) {before.Gap:F2} → {after.Gap:F2}, greedy reward {before.Greedy:F2} → {after.Greedy:F2}; "
            + "sampled reward per step " + string.Join(" ", steps.Select(s => s.MeanReward.ToString("F2")));
        TestContext.Current.TestOutputHelper?.WriteLine(trace);
        Assert.True(after.Gap > before.Gap + 1.0, trace);
        Assert.True(after.Greedy >= 0.9, trace);
        Assert.All(steps, s => Assert.True(s.MaxValueDrift < 1e-3, $"step {s.Step}: the forward pass saw values {s.MaxValueDrift} off the sampled ones"));
    }
}
