using Whetstone.Client;
using Whetstone.Cookbook.LongMemory;
using Whetstone.Protocol;

namespace Whetstone.Bench;

/// <summary>--memory-scorer --served: the held-out conversations through /v1/chat/completions with
/// the memory field (the served path: model answers in the memory, the update off the response
/// path, the model's rewrites with the extractive fallback), each scorer chosen with memory.scorer;
/// the reader reads the final memory (GET) packed within B.</summary>
internal static class MemoryScorerServed
{
    public static async Task RunAsync(MemoryBenchServer bench, IReadOnlyList<(string Name, MemoryScorer Scorer)> scorers, int[] histories, int[] budgets, int[] seeds)
    {
        var chat = bench.Sdk.CreateMemoryChatClient();
        Console.WriteLine();
        Console.WriteLine("Served: /v1/chat/completions with memory.scorer (model answers in the memory), the reader on the final memory.");
        Console.WriteLine();
        Console.WriteLine(MemoryReadTally.Header);
        foreach (int history in histories)
            foreach (int budget in budgets)
                foreach (var (name, scorer) in scorers)
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var tally = new MemoryReadTally(bench);
                    foreach (int seed in seeds)
                    {
                        var conversation = LongMemoryGenerator.Generate(seed, history, bench.Count);
                        string? id = null;
                        foreach (var turn in conversation.Turns)
                            id = (await chat.ChatAsync(bench.ModelName, turn.User, id, budget, maxTokens: 4, seed: seed, factKeys: turn.FactKeys,
                                scorer: id is null ? scorer : null)).Memory!.Id;
                        var memory = await chat.GetMemoryAsync(id!);
                        if (memory.Scorer != scorer) throw new InvalidOperationException($"memory {id} reports scorer {memory.Scorer}, not {scorer}");
                        var texts = memory.Spans.Select(s => s.Text.TrimEnd('\n')).ToArray();
                        var priority = Enumerable.Range(0, texts.Length).OrderByDescending(i => memory.Spans[i].OriginTurn == memory.Turn).ThenByDescending(i => memory.Spans[i].Retention);
                        tally.Add(conversation, texts, priority, budget);
                        await chat.DeleteMemoryAsync(id!);
                    }
                    Console.WriteLine(tally.Row(history, budget, name, clock.Elapsed));
                }
    }
}
