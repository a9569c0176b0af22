using System.Globalization;
using Whetstone.Bench;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

// Usage: dotnet run -c Release --project bench/Whetstone.Bench -- [presets, default 5m,30m,120m] [--quick]
//        --device=auto|cpu|cuda[:N] (default cpu): the table on that device; --device-check: GPU parity and speed (scripts/gpu-check.sh)
//        --serving: the OpenAI API with 16 adapters (issue #7); --service: the training service;
//        --interleave: training next to sampling and serving on one base model (issue #13)
// Prints a markdown table of prefill and decode speed next to this machine's measured peaks.
//        --avx2 (with any mode): as an AVX2-only CPU would run it (both engines; see Avx2Only)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
bool quick = args.Contains("--quick");
// --device=auto|cpu|cuda[:N] (default cpu): where the inference table and --device-check run.
var device = Whetstone.Engine.Runtime.ComputeDevice.Parse(args.FirstOrDefault(a => a.StartsWith("--device=")) is { } d ? d["--device=".Length..] : "cpu");
if (args.Contains("--device-check"))
{
    // --device-check --device=cuda [preset, default 120m] [--quick]: GPU parity and speed in one run (scripts/gpu-check.sh).
    Environment.ExitCode = DeviceCheck.Run(args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("120m").First(), device, quick);
    return;
}
if (args.Contains("--avx2") && !Avx2Only.InEffect)
{
    Environment.ExitCode = Avx2Only.Relaunch(args);
    return;
}
if (args.Contains("--llama-peer"))
{
    LlamaCppPeerBenchmark.RunPeer(args[Array.IndexOf(args, "--llama-peer") + 1], args.Contains("--avx2"));
    return;
}
if (args.Contains("--peer"))
{
    Console.WriteLine($"# Whetstone vs llama.cpp (LLamaSharp CPU) — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, 2 threads each, same weights");
    Console.WriteLine($"ours: {Avx2Only.Describe()}; llama.cpp: {(args.Contains("--avx2") ? "avx2" : "best")} build");
    LlamaCppPeerBenchmark.Run(args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("30m,120m").First().Split(','), args.Contains("--avx2"));
    return;
}
if (args.Contains("--isa-ab"))
{
    // --isa-ab [preset] [--streams=1,16]: the decode kernels at each SIMD width this CPU runs, and torch, same run.
    var preset = args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("30m").First();
    var streams = (args.FirstOrDefault(a => a.StartsWith("--streams=")) is { } s ? s["--streams=".Length..] : "1,16").Split(',').Select(int.Parse).ToArray();
    Console.WriteLine($"# Decode kernels by SIMD width — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Avx2Only.Describe()}");
    DecodeIsaComparison.Run(preset, streams);
    return;
}
if (args.Contains("--lora-decode"))
{
    // --lora-decode [preset] [--ranks=8,32]: 16 streams decoding on 16 adapters vs one adapter vs none, engine only.
    var preset = args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("30m").First();
    var ranks = (args.FirstOrDefault(a => a.StartsWith("--ranks=")) is { } r ? r["--ranks=".Length..] : "8,32").Split(',').Select(int.Parse).ToArray();
    Console.WriteLine($"# Decode with LoRA adapters — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Avx2Only.Describe()}");
    LoraDecodeBenchmark.Run(preset, ranks);
    return;
}
if (args.Contains("--moe"))
{
    // --moe [--bf16]: a K2-shaped MoE vs a dense model of equal active parameters (issue #18).
    Console.WriteLine($"# MoE vs dense of equal active parameters — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Avx2Only.Describe()}");
    MoeBenchmark.Run(args.Contains("--bf16") ? ScalarType.BFloat16 : ScalarType.Float32);
    return;
}
if (args.Contains("--service"))
{
    var serviceDtype = args.Contains("--fp32") ? ScalarType.Float32 : ScalarType.BFloat16;
    Console.WriteLine($"# Whetstone service benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, 30m model, {serviceDtype}, LoRA rank 32");
    await ServiceBenchmark.RunAsync(serviceDtype);
    return;
}
if (args.Contains("--interleave"))
{
    // --interleave [--bf16] [--quick] [--parts=abc] [--live-chunk=N]: training and decoding on one base model (issue #13); whet-nano from models/.
    var interleaveDtype = args.Contains("--bf16") ? ScalarType.BFloat16 : ScalarType.Float32;
    var nano = Enumerable.Range(0, 6).Select(up => Path.Combine([Directory.GetCurrentDirectory(), .. Enumerable.Repeat("..", up), "models", "whet-nano"]))
        .Select(Path.GetFullPath).FirstOrDefault(d => File.Exists(Path.Combine(d, "config.json")))
        ?? throw new DirectoryNotFoundException("models/whet-nano not found above the current directory");
    var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags")) ?? "";
    Console.WriteLine($"# Whetstone interleaving benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {interleaveDtype}, {Environment.ProcessorCount} cores, " +
        $"avx512f {flags.Contains(" avx512f")}, avx512_bf16 {flags.Contains(" avx512_bf16")}, avx2 {flags.Contains(" avx2")}, load {File.ReadAllText("/proc/loadavg").Trim()}");
    Console.WriteLine();
    string parts = args.FirstOrDefault(a => a.StartsWith("--parts=")) is { } p ? p["--parts=".Length..] : "abc";
    int? liveChunk = args.FirstOrDefault(a => a.StartsWith("--live-chunk=")) is { } c ? int.Parse(c["--live-chunk=".Length..]) : null;
    await InterleaveBenchmark.RunAsync(interleaveDtype, nano, quick, parts, liveChunk);
    return;
}
if (args.Contains("--rope-probe"))
{
    // --rope-probe [--model=DIR] [--seeds=3]: a zoo model at 4,096 tokens under RoPE scaling alone (issue #16's reader context).
    string dir = args.FirstOrDefault(a => a.StartsWith("--model=")) is { } md ? md["--model=".Length..] : "../../models/whet-nano";   // run from bench/Whetstone.Bench, like the other modes
    int seeds = args.FirstOrDefault(a => a.StartsWith("--seeds=")) is { } sd ? int.Parse(sd["--seeds=".Length..]) : 3;
    Console.WriteLine($"# RoPE scaling probe — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; {Avx2Only.Describe()}");
    Whetstone.Bench.ReaderRopeProbe.Run(dir, seeds);
    return;
}
if (args.Contains("--reader-data"))
{
    // --reader-data --out=FILE [--model=DIR] [--count=N] [--min=T] [--max=T] [--first-seed=S] [--unknown-share=0.125]: SFT data for the model reader (issue #16).
    string Arg(string flag, string fallback) => args.FirstOrDefault(a => a.StartsWith(flag)) is { } v ? v[flag.Length..] : fallback;
    ReaderDataWriter.Run(Arg("--model=", "../../models/whet-nano"), Arg("--out=", "reader.jsonl"), int.Parse(Arg("--count=", "100")),
        int.Parse(Arg("--min=", "64")), int.Parse(Arg("--max=", "512")), int.Parse(Arg("--first-seed=", "1000")),
        Arg("--unknown-share=", "") is { Length: > 0 } us ? double.Parse(us, System.Globalization.CultureInfo.InvariantCulture) : null);
    return;
}
if (args.Contains("--reader-probe"))
{
    // --reader-probe --reader=DIR [--histories=200,1000] [--conversations=6] [--first-seed=900300]: a reader candidate's greedy score on held-out whole histories of each length (issue #16).
    string Arg(string flag, string fallback) => args.FirstOrDefault(a => a.StartsWith(flag)) is { } v ? v[flag.Length..] : fallback;
    Whetstone.Bench.ReaderLengthProbe.Run(Arg("--reader=", "../../models/whet-reader-nano"), Arg("--histories=", "200,1000").Split(',').Select(int.Parse).ToArray(),
        int.Parse(Arg("--conversations=", "6")), int.Parse(Arg("--first-seed=", "900300")));
    return;
}
if (args.Contains("--copy-data"))
{
    // --copy-data --out=FILE [--model=DIR] [--count=N] [--min=T] [--max=T] [--first-seed=S] [--fact-chains=K: the easy level]: the model reader's copy curriculum (issue #16).
    string Arg(string flag, string fallback) => args.FirstOrDefault(a => a.StartsWith(flag)) is { } v ? v[flag.Length..] : fallback;
    Whetstone.Bench.CopyDataWriter.Run(Arg("--model=", "../../models/whet-nano"), Arg("--out=", "copy.jsonl"), int.Parse(Arg("--count=", "100")),
        int.Parse(Arg("--min=", "48")), int.Parse(Arg("--max=", "256")), int.Parse(Arg("--first-seed=", "2000000")),
        Arg("--fact-chains=", "") is { Length: > 0 } fc ? int.Parse(fc) : null);
    return;
}
if (args.Contains("--memory-reader"))
{
    // --memory-reader [--budgets=256,...] [--histories=1000,10000] [--seeds=2] [--md-history=1000] [--summary-history=1000] [--minilm-history=100000] [--model=DIR] [--reader=DIR: the model reader too] [--md-budgets=256,512: Memory Diffusion at these B only] (issue #16).
    int[] Ints(string flag, string fallback) => (args.FirstOrDefault(a => a.StartsWith(flag)) is { } v ? v[flag.Length..] : fallback).Split(',').Select(int.Parse).ToArray();
    Console.WriteLine($"# Long-memory reader accuracy at equal budget — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
    await MemoryReaderBenchmark.RunAsync(new(Ints("--budgets=", "256,512,1024,2048,3072"), Ints("--histories=", "1000,10000"), Ints("--seeds=", "2")[0],
        Ints("--md-history=", "1000")[0], Ints("--summary-history=", "1000")[0], Ints("--minilm-history=", "100000")[0],
        args.FirstOrDefault(a => a.StartsWith("--model=")) is { } m ? m["--model=".Length..] : null,
        args.FirstOrDefault(a => a.StartsWith("--reader=")) is { } rd ? rd["--reader=".Length..] : null,
        args.Any(a => a.StartsWith("--md-budgets=")) ? Ints("--md-budgets=", "") : null));
    return;
}
if (args.Contains("--memory-scorer"))
{
    // --memory-scorer [--steps=60] [--budgets=128,256] [--histories=1000] [--rl-steps=0] [--rl-temperature=1] [--served] [--model=DIR]: learned against heuristic span scorer (issue #16).
    int[] Ints(string flag, string fallback) => (args.FirstOrDefault(a => a.StartsWith(flag)) is { } v ? v[flag.Length..] : fallback).Split(',').Select(int.Parse).ToArray();
    Console.WriteLine($"# Memory span scorer: learned against heuristic — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
    await MemoryScorerBenchmark.RunAsync(Ints("--steps=", "60")[0], Ints("--budgets=", "128,256"), Ints("--histories=", "1000"), args.FirstOrDefault(a => a.StartsWith("--model=")) is { } m ? m["--model=".Length..] : null, Ints("--rl-steps=", "0")[0],
        double.Parse(args.FirstOrDefault(a => a.StartsWith("--rl-temperature=")) is { } t ? t["--rl-temperature=".Length..] : "1", System.Globalization.CultureInfo.InvariantCulture), args.Contains("--served"));
    return;
}
if (args.Contains("--memory-recall"))
{
    // --memory-recall [--histories=1000,10000,100000] [--md-history=1000] [--seeds=2]: evidence kept at equal budget (issue #16).
    int[] histories = (args.FirstOrDefault(a => a.StartsWith("--histories=")) is { } hs ? hs["--histories=".Length..] : "1000,10000,100000").Split(',').Select(int.Parse).ToArray();
    int mdHistory = args.FirstOrDefault(a => a.StartsWith("--md-history=")) is { } md ? int.Parse(md["--md-history=".Length..]) : 1000;
    int seeds = args.FirstOrDefault(a => a.StartsWith("--seeds=")) is { } sd ? int.Parse(sd["--seeds=".Length..]) : 2;
    Console.WriteLine($"# Long-memory evidence at equal budget — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
    await MemoryRecallBenchmark.RunAsync(256, histories, mdHistory, seeds);
    return;
}
if (args.Contains("--memory"))
{
    // --memory [--max-history=100000] [--seconds=100] [--budget=256] [--context=1024] [--lines]: Memory Diffusion's per-turn cost against history length (issue #16).
    long maxHistory = args.FirstOrDefault(a => a.StartsWith("--max-history=")) is { } h ? long.Parse(h["--max-history=".Length..]) : 100_000;
    double seconds = args.FirstOrDefault(a => a.StartsWith("--seconds=")) is { } sec ? double.Parse(sec["--seconds=".Length..]) : 100;
    int budget = args.FirstOrDefault(a => a.StartsWith("--budget=")) is { } bu ? int.Parse(bu["--budget=".Length..]) : 256;
    int context = args.FirstOrDefault(a => a.StartsWith("--context=")) is { } cx ? int.Parse(cx["--context=".Length..]) : 1024;
    Console.WriteLine($"# Memory Diffusion per-turn cost vs history — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; {Avx2Only.Describe()}");
    await MemoryBenchmark.RunAsync(maxHistory, seconds, budget, context, args.Contains("--lines"));
    return;
}
if (args.Contains("--serving"))
{
    var servingDtype = args.Contains("--fp32") ? ScalarType.Float32 : ScalarType.BFloat16;
    int rank = args.FirstOrDefault(a => a.StartsWith("--rank=")) is { } r ? int.Parse(r["--rank=".Length..]) : 8;
    Console.WriteLine($"# Whetstone OpenAI-compatible serving benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, 30m model, {servingDtype}; {Avx2Only.Describe()}");
    await ServingBenchmark.RunAsync(servingDtype, rank, rounds: quick ? 1 : 3);
    return;
}
if (args.Contains("--kernel-ab"))
{
    // --kernel-ab [preset] [--streams=1,4,16]: the decode kernels against torch's path, same run.
    var preset = args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("30m").First();
    var streams = (args.FirstOrDefault(a => a.StartsWith("--streams=")) is { } s ? s["--streams=".Length..] : "1,4,16").Split(',').Select(int.Parse).ToArray();
    Console.WriteLine($"# Decode kernels vs torch — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    DecodeKernelComparison.Run(preset, streams);
    return;
}
if (args.Contains("--profile-decode"))
{
    var preset = args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("120m").First();
    var dir = Path.Combine(Path.GetTempPath(), "whetstone-bench", preset);
    if (!File.Exists(Path.Combine(dir, "config.json"))) RandomModelWriter.Write(dir, RandomModelSpec.Preset(preset));
    foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
    {
        using var m = PretrainedModel.Load(dir, dtype);
        int rows = args.FirstOrDefault(a => a.StartsWith("--rows=")) is { } r ? int.Parse(r["--rows=".Length..]) : 1;
        Console.Write($"{preset} {dtype} {rows} rows: ");
        DecodeProfile.Run(m, rows);
    }
    return;
}
var presets = args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("5m,30m,120m").First().Split(',');
int threads = get_num_threads();

Console.WriteLine($"# Whetstone inference benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"machine: {Environment.ProcessorCount} logical cores, torch threads {threads}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; device {Whetstone.Engine.Runtime.ComputeDevice.Name(device)}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
var peak = new Dictionary<ScalarType, double>
{
    [ScalarType.Float32] = HardwarePeak.MatmulFlops(ScalarType.Float32, device),
    [ScalarType.BFloat16] = HardwarePeak.MatmulFlops(ScalarType.BFloat16, device),
};
double bandwidth = HardwarePeak.ReadBandwidth(device: device);
Console.WriteLine($"measured peaks: fp32 matmul {peak[ScalarType.Float32] / 1e9:F1} GFLOP/s, bf16 matmul {peak[ScalarType.BFloat16] / 1e9:F1} GFLOP/s, read bandwidth {bandwidth / 1e9:F1} GB/s");
Console.WriteLine();
if (args.Contains("--image-prefill"))
{
    // --image-prefill: image prompts through prefill vs text of the same length, and the tower alone (issue #17).
    Console.WriteLine($"prefill of 4 rows × 128 tokens, each image row one 224×224 image (64 of its tokens); 30m LM + 8-block tower; % = achieved FLOP/s ÷ measured matmul peak of the dtype");
    Console.WriteLine();
    ImagePrefillBenchmark.Run(peak);
    return;
}
if (args.Contains("--training"))
{
    Console.WriteLine($"forward_backward of {8}×{256} tokens, cross_entropy; LoRA rank 32 on all targets; % = achieved FLOP/s ÷ measured matmul peak of the dtype (LoRA 4·P, full 6·P FLOPs per token)");
    Console.WriteLine();
    Console.WriteLine("| model | dtype | LoRA tok/s | LoRA % peak | full FT tok/s | full % peak | per extra adapter (weights+grads+Adam) | 8-adapter mixed batch vs 1 adapter |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    foreach (var preset in args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("30m,120m").First().Split(','))
        TrainingBenchmark.Run(preset, peak);
    return;
}
Console.WriteLine("| model | params | dtype | prefill tok/s (4×256) | prefill % of matmul peak | decode b=1 tok/s | b=1 % of bandwidth bound | decode b=16 tok/s |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");

foreach (var preset in presets)
{
    var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench", preset);
    if (!File.Exists(Path.Combine(directory, "config.json")))
        RandomModelWriter.Write(directory, RandomModelSpec.Preset(preset));
    foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
    {
        using var model = PretrainedModel.Load(directory, dtype, device);
        var bench = new InferenceBenchmark(model);
        long parameters = model.Network.parameters().Sum(p => p.numel());
        int decodeTokens = quick ? 16 : 64;
        double prefill = bench.PrefillTokensPerSecond(4, 256);
        double prefillShare = prefill * bench.PrefillFlops(4, 256) / (4 * 256) / peak[dtype];
        double decode1 = bench.DecodeTokensPerSecond(1, decodeTokens);
        double bound = bandwidth / bench.WeightBytesPerToken(dtype);
        double decode16 = bench.DecodeTokensPerSecond(16, decodeTokens);
        Console.WriteLine($"| {preset} | {parameters / 1e6:F1}M | {(dtype == ScalarType.Float32 ? "fp32" : "bf16")} | {prefill:F0} | {100 * prefillShare:F0}% | {decode1:F1} | {100 * decode1 / bound:F0}% (bound {bound:F0}) | {decode16:F1} |");
    }
}
