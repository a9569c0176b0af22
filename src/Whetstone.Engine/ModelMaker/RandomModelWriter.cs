using System.Text.Json.Nodes;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Models;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.ModelMaker;

/// <summary>Creates a complete Hugging Face model directory with random weights: config.json,
/// generation_config.json, safetensors (single or sharded), tokenizer.json and
/// tokenizer_config.json. Everything loads through the same path as a downloaded checkpoint.</summary>
public static class RandomModelWriter
{
    public static ModelConfig Write(string directory, RandomModelSpec spec)
    {
        Directory.CreateDirectory(directory);
        var tokenizer = spec.KimiTokenizer
            ? KimiTokenizerFiles.WriteFromMerges(directory, spec.Merges)
            : ByteLevelTokenizerFiles.Write(directory, spec.EffectiveTokenizerStyle, spec.Merges);
        int vocab = spec.VocabSize ?? (tokenizer.TokenCount + 63) / 64 * 64;
        if (vocab < tokenizer.TokenCount)
            throw new ArgumentException($"vocab_size {vocab} is smaller than the tokenizer's {tokenizer.TokenCount} tokens");
        int headDim = spec.Mla?.QkRopeHeadDim ?? spec.HeadDim ?? spec.HiddenSize / spec.NumAttentionHeads;

        var config = new ModelConfig
        {
            Family = spec.Family,
            VocabSize = vocab,
            HiddenSize = spec.HiddenSize,
            IntermediateSize = spec.IntermediateSize,
            NumHiddenLayers = spec.NumHiddenLayers,
            NumAttentionHeads = spec.NumAttentionHeads,
            NumKeyValueHeads = spec.NumKeyValueHeads,
            HeadDim = headDim,
            MaxPositionEmbeddings = spec.MaxPositionEmbeddings,
            RmsNormEps = 1e-6,
            RopeTheta = spec.RopeTheta,
            RopeScaling = spec.RopeScaling,
            TieWordEmbeddings = spec.TieWordEmbeddings,
            AttentionBias = spec.Family == ModelFamily.Qwen2,
            Mla = spec.Mla,
            Moe = spec.Moe,
            ModelTypeName = spec.ModelTypeName,
            BosTokenId = tokenizer.BosTokenId,
            EosTokenIds = tokenizer.EosTokenIds,
            TorchDtype = spec.StoredDtype switch
            {
                ScalarType.BFloat16 => "bfloat16",
                ScalarType.Float16 => "float16",
                _ => "float32",
            },
        };
        if (spec.Vision is { Architecture: Models.Vision.VisionArchitecture.Qwen3Vl } v3) config = RandomQwen3VisionWeights.Configure(config, v3, spec, tokenizer);
        else if (spec.Vision is { } v)
        {
            if (spec.Family != ModelFamily.Qwen2) throw new ArgumentException("a vision tower goes on a Qwen2 LM (Qwen2.5-VL)");
            int half = headDim / 2, temporal = half / 4, height = (half - temporal) / 2;
            config = config with
            {
                Vision = v.FrozenEncoder is not null
                    ? Models.Vision.FrozenEncoders.ResNet18Config(spec.HiddenSize, tokenizer.SpecialTokenIds["<|image_pad|>"],
                        tokenizer.SpecialTokenIds["<|vision_start|>"], tokenizer.SpecialTokenIds["<|vision_end|>"])
                    : new Models.Vision.VisionConfig
                {
                    Depth = v.Depth, HiddenSize = v.HiddenSize, NumHeads = v.NumHeads, IntermediateSize = v.IntermediateSize,
                    OutHiddenSize = spec.HiddenSize, PatchSize = v.PatchSize, WindowSize = v.WindowSize, FullAttBlockIndexes = v.FullAttBlockIndexes,
                    ImageTokenId = tokenizer.SpecialTokenIds["<|image_pad|>"],
                    VisionStartTokenId = tokenizer.SpecialTokenIds["<|vision_start|>"],
                    VisionEndTokenId = tokenizer.SpecialTokenIds["<|vision_end|>"],
                },
                // Qwen2.5-VL splits its 64 frequency pairs 16/24/24; the same proportions here.
                MropeSection = [temporal, height, half - temporal - height],
            };
        }
        // Parse what we write: a shape the loader would refuse is refused here, before any weights.
        var json = config.ToJson();
        if (spec.Fp8Weights)
            json["quantization_config"] = new JsonObject
            {
                ["quant_method"] = "fp8", ["fmt"] = "e4m3", ["activation_scheme"] = "dynamic",
                ["weight_block_size"] = new JsonArray(Fp8BlockDequantizer.DefaultBlockSize, Fp8BlockDequantizer.DefaultBlockSize),
            };
        ModelConfig.Parse(json);
        AtomicFile.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString(ModelConfig.Indented));
        AtomicFile.WriteAllText(Path.Combine(directory, "generation_config.json"), GenerationConfig(tokenizer).ToJsonString(ModelConfig.Indented));

        using var scope = NewDisposeScope();
        var weights = RandomWeights.Create(config, spec.Seed, spec.StoredDtype);
        if (spec.Fp8Weights)
        {
            var (quantized, float8Names) = RandomWeights.ToFloat8(weights);
            CheckpointWriter.Write(directory, quantized, spec.MaxShardBytes, float8Names);
        }
        else CheckpointWriter.Write(directory, weights, spec.MaxShardBytes);
        return config;
    }

    static JsonObject GenerationConfig(GeneratedTokenizer tokenizer)
    {
        var json = new JsonObject();
        if (tokenizer.BosTokenId is int bos) json["bos_token_id"] = bos;
        json["eos_token_id"] = tokenizer.EosTokenIds.Count == 1
            ? tokenizer.EosTokenIds[0]
            : new JsonArray(tokenizer.EosTokenIds.Select(i => (JsonNode)i).ToArray());
        if (tokenizer.PadTokenId is int pad) json["pad_token_id"] = pad;
        json["do_sample"] = true;
        json["temperature"] = 1.0;
        return json;
    }
}
