using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.ModelMaker;

/// <summary>A random Qwen3-VL checkpoint: the Qwen3 LM's tensors moved under
/// model.language_model.*, and the tower's model.visual.* tensors, named and shaped as in the
/// released Qwen3-VL checkpoints.</summary>
internal static class RandomQwen3VisionWeights
{
    public static ModelConfig Configure(ModelConfig config, RandomVisionSpec v, RandomModelSpec spec, GeneratedTokenizer tokenizer)
    {
        if (spec.Family != ModelFamily.Qwen3) throw new ArgumentException("a Qwen3-VL vision tower goes on a Qwen3 LM");
        int half = config.HeadDim / 2, spatial = half * 20 / 64;   // Qwen3-VL splits 64 pairs 24/20/20
        return config with
        {
            Vision = new VisionConfig
            {
                Architecture = VisionArchitecture.Qwen3Vl, Depth = v.Depth, HiddenSize = v.HiddenSize, NumHeads = v.NumHeads,
                IntermediateSize = v.IntermediateSize, OutHiddenSize = spec.HiddenSize, PatchSize = v.PatchSize,
                NumPositionEmbeddings = v.NumPositionEmbeddings, DeepstackVisualIndexes = v.DeepstackVisualIndexes,
                ImageTokenId = tokenizer.SpecialTokenIds["<|image_pad|>"],
                VisionStartTokenId = tokenizer.SpecialTokenIds["<|vision_start|>"],
                VisionEndTokenId = tokenizer.SpecialTokenIds["<|vision_end|>"],
            },
            MropeSection = [half - 2 * spatial, spatial, spatial],
            MropeInterleaved = true,
        };
    }

    public static List<KeyValuePair<string, Tensor>> Add(ModelConfig config, List<KeyValuePair<string, Tensor>> lm, Generator generator)
    {
        var weights = lm.Select(p => p.Key.StartsWith("model.", StringComparison.Ordinal)
            ? new KeyValuePair<string, Tensor>("model.language_model." + p.Key["model.".Length..], p.Value) : p).ToList();
        var dtype = lm[0].Value.dtype;
        void Normal(string name, params long[] shape) => weights.Add(new(name, normal(0, 0.02, shape, generator: generator, device: CPU).to(dtype)));
        void Norm(string name, long size)
        {
            weights.Add(new($"{name}.weight", ones(size, dtype, device: CPU)));
            Normal($"{name}.bias", size);
        }
        void Linear(string name, long input, long output) { Normal($"{name}.weight", output, input); Normal($"{name}.bias", output); }
        void Merger(string name, long normWidth, long group, long outHidden)
        {
            Norm($"{name}.norm", normWidth);
            Linear($"{name}.linear_fc1", group, group);
            Linear($"{name}.linear_fc2", group, outHidden);
        }

        var v = config.Vision!;
        long w = v.HiddenSize, group = w * v.SpatialMergeSize * v.SpatialMergeSize;
        Normal("model.visual.patch_embed.proj.weight", w, v.InChannels, v.TemporalPatchSize, v.PatchSize, v.PatchSize);
        Normal("model.visual.patch_embed.proj.bias", w);
        Normal("model.visual.pos_embed.weight", v.NumPositionEmbeddings, w);
        for (int i = 0; i < v.Depth; i++)
        {
            string p = $"model.visual.blocks.{i}";
            Norm($"{p}.norm1", w);
            Norm($"{p}.norm2", w);
            Linear($"{p}.attn.qkv", w, 3 * w);
            Linear($"{p}.attn.proj", w, w);
            Linear($"{p}.mlp.linear_fc1", w, v.IntermediateSize);
            Linear($"{p}.mlp.linear_fc2", v.IntermediateSize, w);
        }
        Merger("model.visual.merger", w, group, config.HiddenSize);
        for (int k = 0; k < v.DeepstackVisualIndexes.Count; k++) Merger($"model.visual.deepstack_merger_list.{k}", group, group, config.HiddenSize);
        return weights;
    }
}
