using System.Diagnostics;
using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>16 streams decoding together in the engine (no service, no HTTP): every row on its own
/// adapter, all rows on one adapter, and no adapter, through the decode kernels and through the
/// torch path, alternating in one process. 16 adapters ÷ 1 adapter is what multi-tenant serving
/// costs at the engine; the service's figure (`--serving`) adds its own overheads.</summary>
internal static class LoraDecodeBenchmark
{
    const int Streams = 16, Tokens = 48, Prompt = 16;

    public static void Run(string preset, int[] ranks, int rounds = 2)
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench", preset);
        if (!File.Exists(Path.Combine(directory, "config.json"))) RandomModelWriter.Write(directory, RandomModelSpec.Preset(preset));
        var paths = new[] { DecodeInstructionSet.Default, DecodeIsa.Off }.Distinct().ToArray();
        Console.WriteLine($"{Streams} streams × {Tokens} tokens after {Prompt}-token prompts; LoRA factors fp32 on the default targets");
        Console.WriteLine();
        Console.WriteLine("| model | dtype | rank | path | round | no adapter tok/s | 1 adapter tok/s | 16 adapters tok/s | 16 adapters ÷ 1 adapter |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var model = PretrainedModel.Load(directory, dtype);
            var sampler = new Sampler(model.Network, model.Tokenizer);
            foreach (int rank in ranks)
            {
                var config = new LoraConfig { Rank = rank };
                var adapters = Enumerable.Range(0, Streams).Select(i => RandomAdapter(model.Network, config, seed: 100 + i)).ToArray();
                for (int round = 1; round <= rounds; round++)
                    foreach (var path in paths)
                    {
                        using var width = DecodeInstructionSet.Use(path);
                        double none = Rate(sampler, new LoraAdapter?[Streams]);
                        double one = Rate(sampler, Enumerable.Repeat<LoraAdapter?>(adapters[0], Streams).ToArray());
                        double many = Rate(sampler, adapters);
                        Console.WriteLine($"| {preset} | {dtype} | {rank} | {(path == DecodeIsa.Off ? "torch" : path.ToString())} | {round} | {none:F0} | {one:F0} | {many:F0} | {many / one:F2}x |");
                    }
                foreach (var adapter in adapters) adapter.Dispose();
            }
        }
    }

    // Decode tokens/s of one request per row with the given adapters; prompt time subtracted.
    static double Rate(Sampler sampler, LoraAdapter?[] rowAdapters)
    {
        SampleRequest[] Requests(int maxTokens) => rowAdapters.Select((adapter, i) => new SampleRequest(
            Enumerable.Range(0, Prompt).Select(t => 300 + t + i).ToArray(), 1,
            new SamplingParams { MaxTokens = maxTokens, Temperature = 0, IgnoreEos = true }) { Adapter = adapter }).ToArray();
        sampler.SampleBatch(Requests(4));
        double prefillOnly = BestTime.Seconds(() => sampler.SampleBatch(Requests(1)), warmUp: false);
        double total = BestTime.Seconds(() => sampler.SampleBatch(Requests(Tokens + 1)), warmUp: false);
        return Streams * (double)Tokens / Math.Max(1e-9, total - prefillOnly);
    }

    // Random non-zero factors (a fresh adapter's B is 0), fp32 as training keeps them.
    static LoraAdapter RandomAdapter(CausalLanguageModel network, LoraConfig config, long seed)
    {
        var generator = new Generator((ulong)seed);
        return LoraAdapter.FromTensors(network.LoraTargets().Where(t => config.Targets(t.Group)), config, target =>
            (randn([config.Rank, target.InFeatures], generator: generator) * 0.02,
             randn([target.OutFeatures, config.Rank], generator: generator) * 0.02));
    }
}
