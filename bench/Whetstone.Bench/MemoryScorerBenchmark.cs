using Whetstone.Client;
using Whetstone.Cookbook.LongMemory;
using Whetstone.Service.Memory;

namespace Whetstone.Bench;

/// <summary>--memory-scorer: the learned span scorer (<see cref="SpanValueRecipe"/>: value head + LoRA
/// trained through the training API on hindsight labels) against the heuristic scorer (the
/// history-rarity salience the served memory uses, <see cref="SpanSalience"/>) on the lines of
/// held-out conversations: ranking AUC (needed lines above the rest), and reader accuracy when each
/// scorer picks which lines fill a context of B tokens (<see cref="ContextPacking"/>, packed by value).
/// Both see the whole held-out history at once, so this compares the scorers, not the online memory.</summary>
internal static class MemoryScorerBenchmark
{
    public static async Task RunAsync(int steps, int[] budgets, int[] histories, string? modelDirectoryGiven, int rlSteps = 0, double rlTemperature = 1, bool served = false)
    {
        await using var bench = await MemoryBenchServer.StartAsync(modelDirectoryGiven, "memory-scorer");
        string modelName = bench.ModelName;
        var tokenizer = bench.Tokenizer;
        Console.WriteLine($"model: {modelName}; load before {File.ReadAllText("/proc/loadavg").Trim()}");
        var options = new SpanValueOptions(modelName) { Steps = steps };
        var (heldOut, losses, run) = await SpanValueRecipe.RunAsync(bench.Sdk, tokenizer, options, Console.WriteLine);
        Console.WriteLine($"run {run.RunId}: loss first 5 steps {losses.Take(5).Average():F4}, last 5 steps {losses.TakeLast(5).Average():F4} per line");

        // RL (SpanValueRlRecipe) on a copy of the hindsight-trained head, so both can be compared.
        TrainingClient? rlRun = null;
        if (rlSteps > 0)
        {
            var saved = await (await run.SaveStateAsync("hindsight")).ResultAsync();
            rlRun = await bench.Sdk.CreateTrainingClientFromStateAsync(saved.Path, withOptimizer: false);
            var rlOptions = new SpanRlOptions { Steps = rlSteps, Temperature = rlTemperature };
            Console.WriteLine($"RL: {rlSteps} steps on the training conversations at B = {string.Join(", ", budgets)}, G = {rlOptions.Group}, T = {rlOptions.Temperature}, lr {rlOptions.LearningRate}; run {rlRun.RunId} from {saved.Path}");
            var rl = await SpanValueRlRecipe.RunAsync(rlRun, tokenizer, options, budgets, rlOptions, Console.WriteLine);
            int quarter = Math.Max(1, rl.Count / 4);
            Console.WriteLine($"RL mean sampled reward: first quarter {rl.Take(quarter).Average(s => s.MeanReward):F3}, last quarter {rl.TakeLast(quarter).Average(s => s.MeanReward):F3}; max value drift score → forward {rl.Max(s => s.MaxValueDrift):E1}");
        }

        // The heuristic: each line as a span, salience against the whole held-out history's word counts.
        string TokenText(int t) => tokenizer.Decode([t]);
        var heuristic = new Dictionary<(int, int), double>();
        foreach (var group in heldOut.GroupBy(l => l.Seed))
        {
            var lines = group.OrderBy(l => l.Index).ToArray();
            var spans = lines.Select(l => new MemorySpan($"l{l.Index}", l.Index, DateTimeOffset.UnixEpoch, tokenizer.Encode(SpanValueRecipe.SpanText(l.Text)))).ToArray();
            IReadOnlyList<int> counts = [];
            foreach (var s in spans) counts = HistoryWordCounts.Add(counts, SpanSalience.Keys(s.Tokens, TokenText));
            var salience = SpanSalience.Of(spans, counts, TokenText);
            for (int i = 0; i < lines.Length; i++) heuristic[(lines[i].Seed, lines[i].Index)] = salience[i];
        }

        Console.WriteLine();
        Console.WriteLine($"| scorer | AUC (needed over not, {heldOut.Count(l => l.Needed)} needed of {heldOut.Count} held-out lines) | " + string.Join(" | ", budgets.Select(b => $"reader at B = {b}")) + " |");
        Console.WriteLine("|---|---|" + string.Concat(budgets.Select(_ => "---|")));
        var offline = new List<(string, Func<ScoredLine, double>)> { ("learned (value head)", l => l.Value), ("heuristic (history rarity)", l => heuristic[(l.Seed, l.Index)]) };
        if (rlRun is not null)
        {
            // The RL head on the same held-out lines: the one-shot choice is what its reward measured.
            var rlValues = new Dictionary<(int, int), double>();
            foreach (var group in heldOut.GroupBy(l => l.Seed))
            {
                var lines = group.OrderBy(l => l.Index).ToArray();
                var values = (await (await rlRun.ScoreAsync(lines.Select(l => Whetstone.Protocol.ModelInput.FromTokens(tokenizer.Encode(SpanValueRecipe.SpanText(l.Text)))).ToArray())).ResultAsync()).Values;
                for (int i = 0; i < lines.Length; i++) rlValues[(lines[i].Seed, lines[i].Index)] = values[i];
            }
            offline.Add(("learned + RL (value head)", l => rlValues[(l.Seed, l.Index)]));
        }
        foreach (var (name, value) in offline)
        {
            double auc = SpanValueRecipe.Auc(heldOut.Select(l => (l.Needed, value(l))).ToArray());
            var cells = budgets.Select(budget =>
            {
                int right = 0, asked = 0;
                foreach (var group in heldOut.GroupBy(l => l.Seed))
                {
                    var lines = group.OrderBy(l => l.Index).ToArray();
                    var texts = lines.Select(l => l.Text).ToArray();
                    // Best value first; ties: the newer line.
                    var ranked = Enumerable.Range(0, lines.Length).OrderByDescending(i => value(lines[i])).ThenByDescending(i => i);
                    string context = ContextPacking.Join(texts, ContextPacking.Pack(texts, ranked, budget, bench.Count));
                    var conversation = LongMemoryGenerator.Generate(group.Key, options.HistoryTokens, bench.Count);
                    foreach (var q in conversation.Questions)
                    {
                        asked++;
                        if (PatternReader.Correct(q, PatternReader.Answer(q.Question, context, bench.LastTokens))) right++;
                    }
                }
                return $"{right}/{asked}";
            });
            Console.WriteLine($"| {name} | {auc:F3} | {string.Join(" | ", cells)} |");
        }

        // Online: the memory engine folds every held-out turn in at budget B with each scorer; the reader reads the memory at the end.
        var model = new EngineMemoryModel(bench.Server.Core.Context.Host(modelName), "bench");
        var heuristicPolicy = MemoryPolicy.Default with { Refill = RefillMode.Extractive };
        var learnedPolicy = heuristicPolicy with { SalienceWeight = 0 };
        var scorers = new (string Name, Func<MemoryEngine> Engine)[]
        {
            ("heuristic: loss increase + 0.5 × history rarity", () => new MemoryEngine(model, new LossIncreaseScorer(model, heuristicPolicy), heuristicPolicy)),
            ("learned: value head (sigmoid)", () => new MemoryEngine(model, LearnedSpanScorer.Over(run), learnedPolicy)),
        };
        if (rlRun is not null) scorers = [.. scorers, ("learned + RL: value head (sigmoid)", () => new MemoryEngine(model, LearnedSpanScorer.Over(rlRun), learnedPolicy))];
        Console.WriteLine();
        Console.WriteLine("Online: Memory Diffusion's engine over the held-out conversations (user lines only, extractive refill), each scorer as its mask.");
        Console.WriteLine();
        Console.WriteLine(MemoryReadTally.Header);
        foreach (int history in histories)
            foreach (int budget in budgets)
                foreach (var (name, engineFor) in scorers)
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var tally = new MemoryReadTally(bench);
                    foreach (int seed in options.HeldOutSeeds)
                    {
                        var conversation = LongMemoryGenerator.Generate(seed, history, bench.Count);
                        var engine = engineFor();
                        var memory = new MemoryState($"bench-{seed}", "bench", modelName, budget, seed, DateTimeOffset.UnixEpoch);
                        foreach (var turn in conversation.Turns)
                            memory = (await engine.FoldTurnAsync(memory, tokenizer.Encode(SpanValueRecipe.SpanText(turn.User)), turn.FactKeys,
                                DateTimeOffset.UnixEpoch.AddMinutes(memory.Turn), new MemoryTurnWork())).Memory;
                        var texts = memory.Spans.Select(s => tokenizer.Decode(s.Tokens).TrimEnd('\n')).ToArray();
                        var priority = Enumerable.Range(0, texts.Length).OrderByDescending(i => memory.Spans[i].OriginTurn == memory.Turn).ThenByDescending(i => memory.Spans[i].Retention);
                        tally.Add(conversation, texts, priority, budget);
                    }
                    Console.WriteLine(tally.Row(history, budget, name, clock.Elapsed));
                }
        if (served)
        {
            var choices = new List<(string, Whetstone.Protocol.MemoryScorer)>
            {
                ("heuristic", new(Whetstone.Protocol.MemoryScorer.Heuristic)), ("learned: hindsight value head", new(Whetstone.Protocol.MemoryScorer.Learned, run.RunId)),
            };
            if (rlRun is not null) choices.Add(("learned + RL", new(Whetstone.Protocol.MemoryScorer.Learned, rlRun.RunId)));
            await MemoryScorerServed.RunAsync(bench, choices, histories, budgets, options.HeldOutSeeds);
        }
        Console.WriteLine();
        Console.WriteLine($"load after {File.ReadAllText("/proc/loadavg").Trim()}");
    }
}
