using System.Globalization;
using System.Text.Json.Nodes;
using Whetstone.Cookbook.LongMemory;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>--rope-probe: can a zoo model (trained at 1,024 positions) read 4,096 tokens with RoPE
/// scaling alone, before any continued training at that length (issue #16's reader)? The same
/// weights under five rope configs, each told max_position_embeddings = 4,096: none (plain
/// extrapolation past the trained positions), linear position interpolation ×4, NTK-aware (rope_theta
/// raised by 4^(d/(d−2))), yarn ×4 and llama3 ×4 (both from 1,024 original positions). The measure is the
/// model's mean NLL per token on long-memory conversations (LongMemoryGenerator), by quarter of the
/// 4,096-token window: a config that keeps positions 1,024–4,095 near the 0–1,023 quarter reads
/// there as well as it reads within its trained context.</summary>
internal static class ReaderRopeProbe
{
    const int Length = 4096, Quarter = 1024;

    public static void Run(string modelDirectory, int seeds)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(modelDirectory, "config.json")))!.AsObject();
        int headDim = config["head_dim"]!.GetValue<int>();
        double theta = config["rope_theta"]!.GetValue<double>();
        int trained = config["max_position_embeddings"]!.GetValue<int>();
        double factor = (double)Length / trained;
        var variants = new (string Name, Action<JsonObject> Edit)[]
        {
            ("none (extrapolate)", c => { }),
            ($"linear ×{factor:F0} (position interpolation)", c => c["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = factor }),
            ($"NTK-aware θ ×{Math.Pow(factor, headDim / (headDim - 2.0)):F2}", c => c["rope_theta"] = theta * Math.Pow(factor, headDim / (headDim - 2.0))),
            ($"yarn ×{factor:F0}", c => c["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = factor, ["original_max_position_embeddings"] = trained }),
            ($"llama3 ×{factor:F0}", c => c["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["factor"] = factor, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = trained }),
        };
        Console.WriteLine($"model {Path.GetFileName(modelDirectory)}: trained context {trained}, head_dim {headDim}, rope_theta {theta}; {seeds} conversations of {Length} tokens; fp32");
        Console.WriteLine();
        Console.WriteLine("| rope config | NLL/token 0–1,023 | 1,024–2,047 | 2,048–3,071 | 3,072–4,095 | last quarter ÷ first |");
        Console.WriteLine("|---|---|---|---|---|---|");
        List<int[]>? texts = null;
        foreach (var (name, edit) in variants)
        {
            string dir = Path.Combine(Path.GetTempPath(), "whetstone-bench", "rope-probe", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            foreach (var file in Directory.GetFiles(modelDirectory)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
            var variant = config.DeepClone().AsObject();
            variant["max_position_embeddings"] = Length;
            edit(variant);
            File.WriteAllText(Path.Combine(dir, "config.json"), variant.ToJsonString());
            using var model = PretrainedModel.Load(dir, ScalarType.Float32);
            texts ??= Enumerable.Range(1, seeds).Select(seed => Conversation(model, seed)).ToList();
            var sampler = new Sampler(model.Network, model.Tokenizer);
            var sums = new double[Length / Quarter];
            foreach (var tokens in texts)
            {
                var logprobs = sampler.ComputeLogprobs(tokens);
                for (int t = 1; t < Length; t++) sums[t / Quarter] -= logprobs[t]!.Value;
            }
            var means = sums.Select((s, q) => s / (texts.Count * (q == 0 ? Quarter - 1 : Quarter))).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {means[0]:F3} | {means[1]:F3} | {means[2]:F3} | {means[3]:F3} | {means[3] / means[0]:F2} |"));
            Directory.Delete(dir, true);
        }
    }

    // A generated conversation's lines ("user: …"), cut to exactly Length tokens.
    static int[] Conversation(PretrainedModel model, int seed)
    {
        var conversation = LongMemoryGenerator.Generate(seed, Length * 2, s => model.Tokenizer.Encode(s).Count);
        var text = string.Concat(conversation.Turns.Select(t => $"user: [{t.Date:yyyy-MM-dd}] {t.User}\nassistant: Noted.\n"));
        var tokens = model.Tokenizer.Encode(text);
        if (tokens.Count < Length) throw new InvalidOperationException($"conversation {seed} has {tokens.Count} tokens, fewer than {Length}");
        return tokens.Take(Length).ToArray();
    }
}
