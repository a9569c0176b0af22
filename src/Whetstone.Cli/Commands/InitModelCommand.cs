using System.CommandLine;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Runtime;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

internal static class InitModelCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "Directory to write", Required = true };
        var family = new Option<string?>("--family") { Description = "llama, qwen2, qwen3 (default), qwen2_5_vl (a Qwen2 LM with a tiny Qwen2.5-VL vision tower), qwen3_vl (a Qwen3 LM with a tiny Qwen3-VL tower), deepseek_v3, kimi_k2 or qwen3_moe (MoE/MLA shapes come from the presets)" };
        var preset = new Option<string?>("--preset") { Description = "Shape preset: tiny, 5m, 30m, 120m, kimi-tiny, deepseek-tiny, deepseek-tiny-qproj, qwen3moe-tiny (other options override it)" };
        var fp8 = new Option<bool>("--fp8") { Description = "Store projection weights as block-scaled float8_e4m3fn (weight_scale_inv), as DeepSeek-V3/Kimi K2 are released" };
        var hidden = new Option<int?>("--hidden-size");
        var layers = new Option<int?>("--layers");
        var heads = new Option<int?>("--heads");
        var kvHeads = new Option<int?>("--kv-heads");
        var headDim = new Option<int?>("--head-dim");
        var intermediate = new Option<int?>("--intermediate-size");
        var vocab = new Option<int?>("--vocab-size") { Description = "Embedding rows (default: tokenizer size rounded up to 64)" };
        var maxPositions = new Option<int?>("--max-positions");
        var untied = new Option<bool>("--untied") { Description = "Separate lm_head instead of tied embeddings" };
        var llama3Rope = new Option<bool>("--llama3-rope") { Description = "Llama 3.1 RoPE scaling (factor 8)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "chatml, llama3 or kimi (Kimi K2's tiktoken.model format; default: the family's)" };
        var dtype = new Option<string>("--dtype") { Description = "Stored dtype: fp32, bf16 or fp16", DefaultValueFactory = _ => "fp32" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var shard = new Option<long?>("--shard-mb") { Description = "Split weights into shards of at most this many MB" };

        var command = new Command("init-model", "Write a random-weight model as a complete Hugging Face directory.");
        foreach (var option in new Option[] { output, family, preset, fp8, hidden, layers, heads, kvHeads, headDim, intermediate, vocab, maxPositions, untied, llama3Rope, tokenizer, dtype, seed, shard })
            command.Options.Add(option);
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var spec = result.GetValue(preset) is string name ? RandomModelSpec.Preset(name) : new RandomModelSpec();
            var storedDtype = ComputeDtype.Parse(result.GetValue(dtype)!);
            spec = spec with
            {
                // qwen2_5_vl: a Qwen2 LM with a tiny random Qwen2.5-VL vision tower.
                Family = result.GetValue(family) is "qwen2_5_vl" ? ModelFamily.Qwen2 : result.GetValue(family) is "qwen3_vl" ? ModelFamily.Qwen3
                    : result.GetValue(family) is string familyName ? ModelFamilyNames.Parse(familyName) : spec.Family,
                Vision = result.GetValue(family) switch { "qwen2_5_vl" => new RandomVisionSpec(), "qwen3_vl" => RandomVisionSpec.Qwen3Vl(), _ => null },
                ModelTypeName = result.GetValue(family) is "kimi_k2" ? "kimi_k2" : spec.ModelTypeName,
                Fp8Weights = result.GetValue(fp8),
                HiddenSize = result.GetValue(hidden) ?? spec.HiddenSize,
                NumHiddenLayers = result.GetValue(layers) ?? spec.NumHiddenLayers,
                NumAttentionHeads = result.GetValue(heads) ?? spec.NumAttentionHeads,
                NumKeyValueHeads = result.GetValue(kvHeads) ?? spec.NumKeyValueHeads,
                HeadDim = result.GetValue(headDim) ?? spec.HeadDim,
                IntermediateSize = result.GetValue(intermediate) ?? spec.IntermediateSize,
                VocabSize = result.GetValue(vocab) ?? spec.VocabSize,
                MaxPositionEmbeddings = result.GetValue(maxPositions) ?? spec.MaxPositionEmbeddings,
                TieWordEmbeddings = !result.GetValue(untied) && spec.TieWordEmbeddings,
                RopeScaling = result.GetValue(llama3Rope)
                    ? new RopeScaling { Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = Math.Max(1, (result.GetValue(maxPositions) ?? spec.MaxPositionEmbeddings) / 4) }
                    : spec.RopeScaling,
                KimiTokenizer = result.GetValue(tokenizer) == "kimi",
                TokenizerStyle = result.GetValue(tokenizer) switch
                {
                    null or "kimi" => null,
                    "chatml" => ByteLevelTokenizerStyle.ChatMl,
                    "llama3" => ByteLevelTokenizerStyle.Llama3,
                    var other => throw new ArgumentException($"--tokenizer '{other}' is not chatml, llama3 or kimi"),
                },
                StoredDtype = storedDtype,
                Seed = result.GetValue(seed),
                MaxShardBytes = result.GetValue(shard) is long mb ? mb * 1024 * 1024 : null,
            };
            var directory = result.GetValue(output)!;
            var config = RandomModelWriter.Write(directory, spec);
            string architecture = config.Vision is null ? config.Family.Architecture()
                : config.Vision.Architecture == Engine.Models.Vision.VisionArchitecture.Qwen3Vl ? Engine.Models.Vision.Qwen3VisionJson.Architecture : "Qwen2_5_VLForConditionalGeneration";
            Console.WriteLine($"wrote {architecture} ({config.NumHiddenLayers} layers, hidden {config.HiddenSize}, vocab {config.VocabSize}) to {Path.GetFullPath(directory)}");
            return 0;
        }));
        return command;
    }
}
