using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;
using Whetstone.Engine.Formats.Gguf;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>The engine next to llama.cpp (LLamaSharp's CPU build) on the same weights — our model
/// exported to GGUF — with the same thread count, in one run: prefill, batch-1 decode, and 16
/// streams decoding together.</summary>
internal static class LlamaCppPeerBenchmark
{
    const int PrefillLength = 256, Prompt = 16, DecodeTokens = 48, Streams = 16;

    public static void Run(IEnumerable<string> presets, bool avx2)
    {
        Console.WriteLine($"| model | weights | prefill tok/s ours / llama.cpp | ratio | decode b=1 tok/s ours / llama.cpp | ratio | 16 streams tok/s ours / llama.cpp | ratio |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var preset in presets)
        {
            var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench", preset);
            if (!File.Exists(Path.Combine(directory, "config.json"))) RandomModelWriter.Write(directory, RandomModelSpec.Preset(preset));
            foreach (var (ours, gguf, label) in new[] { (ScalarType.Float32, ScalarType.Float32, "f32"), (ScalarType.BFloat16, ScalarType.BFloat16, "bf16") })
            {
                var file = Path.Combine(Path.GetTempPath(), "whetstone-bench", $"{preset}-{label}.gguf");
                if (!File.Exists(file)) GgufExporter.Export(directory, file, gguf);
                using var model = PretrainedModel.Load(directory, ours);
                var engine = new InferenceBenchmark(model);
                double ourPrefill = Best(() => engine.PrefillTokensPerSecond(1, PrefillLength));
                double ourDecode = Best(() => engine.DecodeTokensPerSecond(1, DecodeTokens, Prompt));
                double ourStreams = Best(() => engine.DecodeTokensPerSecond(Streams, DecodeTokens, Prompt));
                var (peerPrefill, peerDecode, peerStreams) = PeerInItsOwnProcess(file, avx2);
                Console.WriteLine($"| {preset} | {label} | {ourPrefill:F0} / {peerPrefill:F0} | {ourPrefill / peerPrefill:F2}x | {ourDecode:F1} / {peerDecode:F1} | {ourDecode / peerDecode:F2}x | {ourStreams:F0} / {peerStreams:F0} | {ourStreams / peerStreams:F2}x |");
            }
        }
    }

    /// <summary>llama.cpp runs in a child process (this program with --llama-peer FILE), so that
    /// neither engine's runtime state — libtorch's OpenMP workers and their spin setting
    /// (Engine/Runtime/TorchProcessSettings), ggml's threads, allocators — can help or hinder the other.</summary>
    static (double Prefill, double Decode, double Streams) PeerInItsOwnProcess(string gguf, bool avx2)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(LlamaCppPeerBenchmark).Assembly.Location);
        start.ArgumentList.Add("--llama-peer");
        start.ArgumentList.Add(gguf);
        if (avx2) start.ArgumentList.Add("--avx2");
        using var child = Process.Start(start)!;
        var errors = child.StandardError.ReadToEndAsync();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var result = output.Split('\n').LastOrDefault(l => l.StartsWith("peer ", StringComparison.Ordinal));
        if (child.ExitCode != 0 || result is null) throw new InvalidOperationException($"llama.cpp peer failed ({child.ExitCode}): {errors.Result[^Math.Min(2000, errors.Result.Length)..]}");
        // The child logs LLamaSharp's library choice: make sure the AVX2 run really ran the avx2 build.
        if (avx2 && !errors.Result.Contains("native/avx2/libllama.so' from local", StringComparison.Ordinal))
            throw new InvalidOperationException("llama.cpp peer did not load LLamaSharp's avx2 build");
        var figures = result.Split(' ')[1..].Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return (figures[0], figures[1], figures[2]);
    }

    /// <summary>The child's side: prints "peer PREFILL DECODE STREAMS" (tok/s). With avx2, LLamaSharp
    /// loads its avx2 build of llama.cpp (else the best its CPU check finds: avx512 here).</summary>
    public static void RunPeer(string gguf, bool avx2)
    {
        // No fallback: an AVX2 figure must come from the avx2 build (its choice is logged to stderr).
        if (avx2)
            NativeLibraryConfig.All.WithCuda(false).WithVulkan(false).WithAvx(AvxLevel.Avx2).WithAutoFallback(false)
                .WithLogCallback((level, message) => Console.Error.Write(message));
        var (prefill, decode, streams) = Peer(gguf);
        Console.WriteLine(FormattableString.Invariant($"peer {prefill} {decode} {streams}"));
    }

    /// <summary>llama.cpp with its own defaults (f16 KV cache, flash attention as it decides),
    /// two threads, CPU only.</summary>
    static (double Prefill, double Decode, double Streams) Peer(string gguf)
    {
        var parameters = new ModelParams(gguf)
        {
            ContextSize = (uint)(Streams * (Prompt + DecodeTokens + 8) + PrefillLength), GpuLayerCount = 0, Threads = 2,
            BatchThreads = 2, BatchSize = 512, UBatchSize = 512, SeqMax = Streams,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);

        double prefill = Best(() =>
        {
            using var context = weights.CreateContext(parameters);
            var batch = new LLamaBatch();
            for (int i = 0; i < PrefillLength; i++) batch.Add((LLamaToken)(300 + i % 1000), i, LLamaSeqId.Zero, logits: i == PrefillLength - 1);
            var clock = Stopwatch.StartNew();
            Check(context.Decode(batch));
            return PrefillLength / clock.Elapsed.TotalSeconds;
        });
        double decode = Best(() => DecodeRate(weights, parameters, 1));
        double streams = Best(() => DecodeRate(weights, parameters, Streams));
        return (prefill, decode, streams);
    }

    // Prompts first (not timed), then DecodeTokens greedy steps with one token per stream per step.
    static double DecodeRate(LLamaWeights weights, ModelParams parameters, int streams)
    {
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        for (int s = 0; s < streams; s++)
            for (int i = 0; i < Prompt; i++) batch.Add((LLamaToken)(300 + i), i, (LLamaSeqId)s, logits: i == Prompt - 1);
        Check(context.Decode(batch));
        var next = new int[streams];
        for (int s = 0; s < streams; s++) next[s] = ArgMax(context.NativeHandle.GetLogitsIth(s * Prompt + Prompt - 1));
        var clock = Stopwatch.StartNew();
        for (int step = 0; step < DecodeTokens; step++)
        {
            batch.Clear();
            for (int s = 0; s < streams; s++) batch.Add((LLamaToken)next[s], Prompt + step, (LLamaSeqId)s, logits: true);
            Check(context.Decode(batch));
            for (int s = 0; s < streams; s++) next[s] = ArgMax(context.NativeHandle.GetLogitsIth(s));
        }
        return streams * DecodeTokens / clock.Elapsed.TotalSeconds;
    }

    // Both engines alike: one warm-up, then the best of four (short runs on a shared machine).
    static double Best(Func<double> measure)
    {
        measure();
        return Enumerable.Range(0, 4).Max(_ => measure());
    }

    static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {result}");
    }

    static int ArgMax(Span<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
