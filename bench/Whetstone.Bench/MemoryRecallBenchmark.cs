using Whetstone.Client;
using Whetstone.Cookbook.LongMemory;
using Whetstone.Engine.ModelMaker;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Bench;

/// <summary>--memory-recall: at equal budget B, does each method's context still hold what the
/// benchmark's questions need? Scored by the oracle reader's check (<see cref="EvidenceCheck"/>:
/// every evidence string present, a stale value not after the latest) — an upper bound on what a
/// reader could answer, measured without a reader model. Truncation and BM25 at every history
/// length; Memory Diffusion (served, over the SDK) where the run time allows (it folds in every
/// turn). Abstention is left out: it needs a reader that says "unknown".</summary>
internal static class MemoryRecallBenchmark
{
    const string Model = "memory-bench-1k";
    static readonly QuestionKind[] Kinds = [QuestionKind.SingleHop, QuestionKind.MultiHop, QuestionKind.Temporal, QuestionKind.KnowledgeUpdate];

    public static async Task RunAsync(int budget, int[] historyLengths, int memoryDiffusionHistory, int seeds)
    {
        var modelDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", Model);
        if (!File.Exists(Path.Combine(modelDirectory, "config.json")))
            RandomModelWriter.Write(modelDirectory, new RandomModelSpec { HiddenSize = 64, NumHiddenLayers = 2, IntermediateSize = 128, MaxPositionEmbeddings = 1024, Seed = 3 });
        var tokenizer = HuggingFaceTokenizer.Load(modelDirectory);
        int Count(string text) => tokenizer.Encode(text).Count;

        Console.WriteLine($"B = {budget} tokens (the bench model's tokenizer), seeds 1..{seeds}; share of questions whose evidence the context holds; load before {Load()}");
        Console.WriteLine();
        Console.WriteLine("| history tokens | method | " + string.Join(" | ", Kinds) + " |");
        Console.WriteLine("|---|---|" + string.Concat(Kinds.Select(_ => "---|")));
        foreach (int history in historyLengths)
        {
            var conversations = Enumerable.Range(1, seeds).Select(s => LongMemoryGenerator.Generate(s, history, Count)).ToArray();
            Row(history, "truncation (last B)", conversations, (c, q) => string.Join("\n", ContextBaselines.Truncation(c.Turns, budget, Count)));
            Row(history, "BM25 over turns (top-B)", conversations, (c, q) => string.Join("\n", ContextBaselines.Bm25(c.Turns, q.Question, budget, Count)));
            if (history <= memoryDiffusionHistory)
            {
                var memories = new Dictionary<int, string>();
                foreach (var c in conversations) memories[c.Seed] = await MemoryDiffusionAsync(modelDirectory, c, budget);
                Row(history, "Memory Diffusion (loss-increase scorer, extractive refill, fact keys)", conversations, (c, q) => memories[c.Seed]);
            }
        }
        Console.WriteLine();
        Console.WriteLine($"load after {Load()}");
    }

    static void Row(int history, string method, LongMemoryConversation[] conversations, Func<LongMemoryConversation, MemoryQuestion, string> context)
    {
        var cells = Kinds.Select(kind =>
        {
            var asked = conversations.SelectMany(c => c.Questions.Where(q => q.Kind == kind).Select(q => (c, q))).ToArray();
            int hits = asked.Count(x => EvidenceCheck.Answerable(x.q, context(x.c, x.q)));
            return $"{hits}/{asked.Length}";
        });
        Console.WriteLine($"| {history:N0} | {method} | {string.Join(" | ", cells)} |");
    }

    // Every turn through /v1/chat/completions with the memory field; the memory's text at the end.
    static async Task<string> MemoryDiffusionAsync(string modelDirectory, LongMemoryConversation conversation, int budget)
    {
        await using var server = await WhetstoneServer.StartAsync(new ServerOptions
        {
            ModelDirectories = [modelDirectory],
            DataDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", "memory-recall", Guid.NewGuid().ToString("N")),
            Urls = ["http://127.0.0.1:0"],
            AdminKey = "bench",
        });
        var (_, key) = await AdminKeys.CreateAsync(server.Core.Store, "bench", "bench");
        using var sdk = ServiceClient.Connect(new Uri(server.Urls[0]), key);
        var chat = sdk.CreateMemoryChatClient();
        string? id = null;
        foreach (var turn in conversation.Turns)
            id = (await chat.ChatAsync(Model, turn.User, id, budget, maxTokens: 4, seed: conversation.Seed, factKeys: turn.FactKeys)).Memory!.Id;
        var memory = await chat.GetMemoryAsync(id!);
        return string.Join("\n", memory.Spans.Select(s => s.Text));
    }

    static string Load() => File.ReadAllText("/proc/loadavg").Trim();
}
