using System.Diagnostics;
using Whetstone.Client;
using Whetstone.Engine.ModelMaker;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Bench;

/// <summary>--memory: Memory Diffusion's per-turn cost against history length (issue #16). One
/// memory of budget B on a small random model, fed user turns of ~0.7·B tokens (the turn text, with its "user: " and answer lines, must stay ≤ B) through the SDK
/// over HTTP; every turn's wall time (answer + the background update, which the following GET
/// waits for) and the tokens the update made the model process (the server's count). Reported
/// per window of turns after the history passes 1k, 10k, 100k, … tokens, as ratios to the first
/// window: flat means the turn's work does not depend on how long the conversation is.</summary>
internal static class MemoryBenchmark
{
    const int Window = 8;

    /// <summary><paramref name="budget"/>: B; <paramref name="context"/>: the random model's context
    /// (the answer prompt holds the memory's text and the turn, so it must exceed B + the turn).
    /// Larger B means larger turns, so a long history takes fewer turns to feed.
    /// <paramref name="lines"/>: every sentence of a user turn on its own line, so the turn alone
    /// brings the memory to the span cap (one span per line): the work per turn is then at its
    /// plateau from the first turns, without a fill-up phase in the first window.</summary>
    public static async Task RunAsync(long maxHistory, double maxSeconds, int budget = 256, int context = 1024, bool lines = false)
    {
        string model = context == 1024 ? "memory-bench-1k" : $"memory-bench-{context}";
        var modelDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", model);
        if (!File.Exists(Path.Combine(modelDirectory, "config.json")))
            RandomModelWriter.Write(modelDirectory, new RandomModelSpec { HiddenSize = 64, NumHiddenLayers = 2, IntermediateSize = 128, MaxPositionEmbeddings = context, Seed = 3 });
        await using var server = await WhetstoneServer.StartAsync(new ServerOptions
        {
            ModelDirectories = [modelDirectory],
            DataDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", "memory", Guid.NewGuid().ToString("N")),
            Urls = ["http://127.0.0.1:0"],
            AdminKey = "bench",
        });
        var (_, key) = await AdminKeys.CreateAsync(server.Core.Store, "bench", "bench");
        using var sdk = ServiceClient.Connect(new Uri(server.Urls[0]), key);
        var memories = sdk.CreateMemoryChatClient();
        var tokenizer = HuggingFaceTokenizer.Load(modelDirectory);

        Console.WriteLine($"model context {context}; B = {budget} tokens, user turns of ~{budget * 7 / 10} tokens{(lines ? ", one sentence a line" : "")}, 8-token answers; windows of {Window} turns; load before {Load()}");
        Console.WriteLine();
        Console.WriteLine("| history ≥ tokens | turns | turn wall ms (mean of window) | of it: answer ms | of it: update ms (GET waits) | refill tokens (prompt + generated) | tokens through the model per turn (mean) | of them prefilled (KV not reused) | scoring passes (mean) | memory tokens | wall ÷ first | tokens ÷ first | prefilled ÷ first | process RSS MiB | managed heap MiB | load average (1 min) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        string? id = null;
        long history = 0, nextMark = 1000;
        int turn = 0;
        (double Ms, double Tokens, double Prefilled)? first = null;
        var window = new List<(double Ms, double AnswerMs, int Tokens, int Prefilled, int Passes, int MemoryTokens, int Refill)>();
        var clock = Stopwatch.StartNew();
        // Past max-history it goes on until the window of the last mark within it is measured.
        while ((history < maxHistory || nextMark <= maxHistory) && clock.Elapsed.TotalSeconds < maxSeconds)
        {
            turn++;
            string message = UserTurn(tokenizer, turn, budget * 7 / 10, lines);
            var started = Stopwatch.GetTimestamp();
            var answer = await memories.ChatAsync(model, message, id, budget, maxTokens: 8, seed: 1);
            id = answer.Memory!.Id;
            double answerMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var memory = await memories.GetMemoryAsync(id);   // waits for this turn's update
            double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            history += tokenizer.Encode(message).Count + answer.Usage.CompletionTokens;
            if (turn % 250 == 0) Console.WriteLine($"<!-- turn {turn}, history {history:N0} tokens, {clock.Elapsed.TotalSeconds:F0} s, RSS {Environment.WorkingSet / 1048576.0:F0} MiB, load {Load()} -->");
            if (history < nextMark) continue;
            var work = memory.LastTurnWork!;
            window.Add((ms, answerMs, work.TotalTokens, work.PrefilledTokens, work.ScoringCalls, memory.MemoryTokens, work.RefillPromptTokens + work.RefillGeneratedTokens));
            if (window.Count < Window) continue;
            double meanMs = window.Average(w => w.Ms), meanTokens = window.Average(w => w.Tokens), meanPrefilled = window.Average(w => w.Prefilled);
            first ??= (meanMs, meanTokens, meanPrefilled);
            Console.WriteLine($"| {nextMark:N0} | {turn} | {meanMs:F1} | {window.Average(w => w.AnswerMs):F1} | {meanMs - window.Average(w => w.AnswerMs):F1} | {window.Average(w => w.Refill):F0} | {meanTokens:F0} | {meanPrefilled:F0} | {window.Average(w => w.Passes):F1} | {window.Max(w => w.MemoryTokens)} | {meanMs / first.Value.Ms:F2} | {meanTokens / first.Value.Tokens:F2} | {meanPrefilled / first.Value.Prefilled:F2} | {Environment.WorkingSet / 1048576.0:F0} | {GC.GetTotalMemory(false) / 1048576.0:F0} | {Load().Split(' ')[0]} |");
            Console.Out.Flush();
            window.Clear();
            // Marks 1k, 3k, 10k, 30k, 100k, …: two points per decade.
            nextMark = nextMark.ToString()[0] == '1' ? nextMark * 3 : nextMark * 10 / 3;
        }
        Console.WriteLine();
        Console.WriteLine($"{turn} turns, history {history:N0} tokens in {clock.Elapsed.TotalSeconds:F0} s; load after {Load()}");
    }

    static string Load() => File.ReadAllText("/proc/loadavg").Trim();

    // Deterministic filler with a fact now and then, about `tokens` tokens long.
    static string UserTurn(HuggingFaceTokenizer tokenizer, int turn, int tokens, bool lines)
    {
        string end = lines ? "\n" : " ";
        var text = new System.Text.StringBuilder($"Turn {turn}.{end}");
        for (int i = 0; tokenizer.Encode(text.ToString()).Count < tokens; i++)
            text.Append(((turn + i) % 4) switch
            {
                0 => $"My friend number {turn % 17} lives in city {turn % 23}.",
                1 => "The weather is fine and we talked about nothing much.",
                2 => $"On day {turn} I ate {i} apples.",
                _ => "Small talk continues for a while.",
            } + end);
        if (lines) text.Length--;   // the role line after the message starts its own line anyway
        return text.ToString();
    }
}
