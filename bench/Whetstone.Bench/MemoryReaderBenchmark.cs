using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Bench;

/// <summary>--memory-reader: reader accuracy per question kind and per budget B for every method.
/// Each method builds a context of at most B tokens; the reader (<see cref="PatternReader"/>, a
/// deterministic extractive reader with a 4,096-token window: no zoo model can read) answers every
/// question from it. Methods: full context (the oracle, where the history fits the reader's window),
/// truncation, BM25 and all-MiniLM-L6-v2 retrieval over turns, the rolling summary written by the
/// model, and Memory Diffusion served over the SDK. The model is a random tiny model with a
/// 4,096-token context: its loss increase, summaries and rewrites carry no meaning (the results doc).</summary>
internal static class MemoryReaderBenchmark
{
    /// <param name="ModelDirectory">The model that serves, scores, rewrites and summarises (its tokenizer counts B); null: the random 4k model.</param>
    /// <param name="ReaderDirectory">The model reader (models/whet-reader-nano): each cell then shows its right answers, with the pattern reader's in brackets; null: the pattern reader alone.</param>
    public sealed record Options(int[] Budgets, int[] Histories, int Seeds, int MdHistory, int SummaryHistory, int MiniLmHistory, string? ModelDirectory = null, string? ReaderDirectory = null, int[]? MdBudgets = null);

    public static async Task RunAsync(Options options)
    {
        await using var bench = await MemoryBenchServer.StartAsync(options.ModelDirectory, "memory-reader", options.ReaderDirectory is { } r && Path.GetFullPath(r) != Path.GetFullPath(options.ModelDirectory ?? "") ? [r] : []);
        string modelName = bench.ModelName;
        using var http = new HttpClient { BaseAddress = new Uri(bench.Server.Urls[0]), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bench.Key);
        using var minilm = new MiniLmEmbedder();
        var reader = options.ReaderDirectory is { } readerDirectory ? new ModelReader(http, Path.GetFileName(Path.GetFullPath(readerDirectory).TrimEnd('/')), bench.LastTokens) : null;
        int oracleLimit = reader is null ? PatternReader.ContextTokens : ModelReader.ContextTokens;

        var kinds = Enum.GetValues<QuestionKind>();
        var diagnoses = new List<string>();
        Console.WriteLine($"model: {modelName} ({bench.ModelDirectory}); reader: {(reader is null ? "" : $"model {reader.Model} ({ModelReader.ContextTokens}-token context, greedy; cells: model right/asked (pattern reader right)) and ")}{nameof(PatternReader)} ({PatternReader.ContextTokens}-token window); seeds 1..{options.Seeds}; load before {Load()}");
        Console.WriteLine();
        Console.WriteLine("| history tokens | B | method | " + string.Join(" | ", kinds) + " | all | context tokens (mean) | s |");
        Console.WriteLine("|---|---|---|" + string.Concat(kinds.Select(_ => "---|")) + "---|---|---|");
        foreach (int history in options.Histories)
        {
            var conversations = Enumerable.Range(1, options.Seeds).Select(s => LongMemoryGenerator.Generate(s, history, bench.Count)).ToArray();
            int historyTokens = conversations.Max(c => c.Turns.Sum(t => bench.Count(t.User)));
            if (historyTokens <= oracleLimit)
                await Row(history, historyTokens, "full context (oracle)", conversations, c => Task.FromResult<Func<MemoryQuestion, string>>(_ => Join(c.Turns.Select(t => t.User))));
            var embedded = new Dictionary<int, EmbeddingRetrieval>();
            foreach (int budget in options.Budgets)
            {
                await Row(history, budget, "truncation (last B)", conversations, c => Task.FromResult<Func<MemoryQuestion, string>>(_ => Join(ContextBaselines.Truncation(c.Turns, budget, bench.Count))));
                await Row(history, budget, "BM25 over turns", conversations, c => Task.FromResult<Func<MemoryQuestion, string>>(q => Join(ContextBaselines.Bm25(c.Turns, q.Question, budget, bench.Count))));
                if (history <= options.MiniLmHistory)
                    await Row(history, budget, "MiniLM-L6-v2 over turns", conversations, c =>
                    {
                        if (!embedded.TryGetValue(c.Seed, out var retrieval)) embedded[c.Seed] = retrieval = new EmbeddingRetrieval(c.Turns, minilm.Embed);
                        return Task.FromResult<Func<MemoryQuestion, string>>(q => Join(retrieval.Context(q.Question, budget, bench.Count)));
                    });
                if (history <= options.SummaryHistory)
                    await Row(history, budget, "rolling summary (model)", conversations, async c =>
                    {
                        var rolling = new RollingSummary(budget, bench.Count, bench.LastTokens, (prompt, max) => GenerateAsync(http, modelName, prompt, max));
                        foreach (var turn in c.Turns) await rolling.AddAsync(turn.User);
                        string context = rolling.Context;
                        return _ => context;
                    });
                if (history <= options.MdHistory && (options.MdBudgets is null || options.MdBudgets.Contains(budget)))
                    await Row(history, budget, "Memory Diffusion (line spans, loss increase + history rarity, own answers ×0.1)", conversations, async c =>
                    {
                        var (context, diagnosis) = await MemoryDiffusionAsync(bench.Sdk, modelName, c, budget, bench.Count);
                        diagnoses.Add($"| {history:N0} | {budget:N0} | {c.Seed} | {diagnosis}");
                        return _ => context;
                    });
            }
        }
        if (diagnoses.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("Memory Diffusion's final memory: the scripted lines (facts, events, updates) the questions need, and what the budget went to.");
            Console.WriteLine();
            Console.WriteLine("| history tokens | B | seed | needed lines kept verbatim | needed lines missing | memory tokens: needed / small talk / own answers / other |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (var line in diagnoses) Console.WriteLine(line);
        }
        Console.WriteLine();
        Console.WriteLine($"load after {Load()}");

        async Task Row(int history, int budget, string method, LongMemoryConversation[] conversations, Func<LongMemoryConversation, Task<Func<MemoryQuestion, string>>> build)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var right = kinds.ToDictionary(k => k, _ => 0);
            var modelRight = kinds.ToDictionary(k => k, _ => 0);
            var asked = kinds.ToDictionary(k => k, _ => 0);
            var contextTokens = new List<int>();
            var reads = new List<(LongMemoryConversation C, MemoryQuestion Q, string Text)>();
            foreach (var c in conversations)
            {
                var context = await build(c);
                foreach (var q in c.Questions)
                {
                    string text = context(q);
                    contextTokens.Add(bench.Count(text));
                    asked[q.Kind]++;
                    if (PatternReader.Correct(q, PatternReader.Answer(q.Question, text, bench.LastTokens))) right[q.Kind]++;
                    reads.Add((c, q, text));
                }
            }
            if (reader is not null)
            {
                // A row's questions at once: the server batches them into shared forward passes.
                using var gate = new SemaphoreSlim(8);
                var answers = await Task.WhenAll(reads.Select(async r =>
                {
                    await gate.WaitAsync();
                    try { return await reader.AnswerAsync(r.Q.Question, r.Text); }
                    finally { gate.Release(); }
                }));
                for (int i = 0; i < reads.Count; i++)
                {
                    var (c, q, _) = reads[i];
                    bool ok = PatternReader.Correct(q, answers[i]);
                    if (ok) modelRight[q.Kind]++;
                    if (Verbose) Console.Error.WriteLine($"{history}\t{budget}\t{method}\t{c.Seed}\t{q.Kind}\t{q.Answer}\t{answers[i]}\t{ok}");
                }
            }
            string Cell(int pattern, int model, int n) => reader is null ? $"{pattern}/{n}" : $"{model}/{n} ({pattern})";
            var cells = kinds.Select(k => Cell(right[k], modelRight[k], asked[k]));
            Console.WriteLine($"| {history:N0} | {budget:N0} | {method} | {string.Join(" | ", cells)} | {Cell(right.Values.Sum(), modelRight.Values.Sum(), asked.Values.Sum())} | {contextTokens.Average():F0} | {started.Elapsed.TotalSeconds:F0} |");
        }
    }

    /// <summary>WHET_READER_VERBOSE=1: every model answer on stderr (history, B, method, seed, kind, expected, answer, right).</summary>
    static readonly bool Verbose = Environment.GetEnvironmentVariable("WHET_READER_VERBOSE") == "1";

    static string Join(IEnumerable<string> turns) => string.Join("\n", turns);

    // Every turn through /v1/chat/completions with the memory field; the memory's text at the end,
    // packed exactly within B (spans re-decoded to text can encode to a few more tokens than they hold):
    // the newest turn's lines first, then by retention.
    static async Task<(string Context, string Diagnosis)> MemoryDiffusionAsync(ServiceClient sdk, string model, LongMemoryConversation conversation, int budget, Func<string, int> count)
    {
        var chat = sdk.CreateMemoryChatClient();
        string? id = null;
        foreach (var turn in conversation.Turns)
            id = (await chat.ChatAsync(model, turn.User, id, budget, maxTokens: 4, seed: conversation.Seed, factKeys: turn.FactKeys)).Memory!.Id;
        var memory = await chat.GetMemoryAsync(id!);
        await chat.DeleteMemoryAsync(id!);
        var texts = memory.Spans.Select(s => s.Text.TrimEnd('\n')).ToArray();
        var priority = Enumerable.Range(0, texts.Length).OrderByDescending(i => memory.Spans[i].OriginTurn == memory.Turn).ThenByDescending(i => memory.Spans[i].Retention);
        string context = ContextPacking.Join(texts, ContextPacking.Pack(texts, priority, budget, count));
        return (context, Diagnose(conversation, memory));
    }

    /// <summary>Which scripted lines (every turn that is not small talk) the memory still holds verbatim, and where its tokens went.</summary>
    static string Diagnose(LongMemoryConversation conversation, Whetstone.Protocol.MemoryInfo memory)
    {
        var needed = conversation.Turns.Where(t => !LongMemoryGenerator.IsSmallTalk(t.User)).Select(t => t.User).ToArray();
        bool Needed(string text) => needed.Any(n => text.Contains(n, StringComparison.Ordinal));
        var missing = needed.Where(n => !memory.Spans.Any(s => s.Text.Contains(n, StringComparison.Ordinal))).ToArray();
        int neededTokens = 0, talk = 0, answers = 0, other = 0;
        foreach (var s in memory.Spans)
        {
            if (s.Text.TrimStart().StartsWith("assistant:", StringComparison.Ordinal)) answers += s.Tokens.Count;
            else if (Needed(s.Text)) neededTokens += s.Tokens.Count;
            else if (LongMemoryGenerator.IsSmallTalk(s.Text)) talk += s.Tokens.Count;
            else other += s.Tokens.Count;
        }
        string Short(string line) => line.Length > 40 ? line[13..40] + "…" : line;
        return $"{needed.Length - missing.Length}/{needed.Length} | {string.Join("; ", missing.Select(Short))} | {neededTokens} / {talk} / {answers} / {other} |";
    }

    // The rolling summary's model call: one greedy chat completion.
    static async Task<string> GenerateAsync(HttpClient http, string model, string prompt, int maxTokens)
    {
        using var response = await http.PostAsJsonAsync("/v1/chat/completions", new
        {
            model, max_tokens = maxTokens, temperature = 0, seed = 1,
            messages = new[] { new { role = "user", content = prompt } },
        });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
    }

    static string Load() => File.ReadAllText("/proc/loadavg").Trim();
}
