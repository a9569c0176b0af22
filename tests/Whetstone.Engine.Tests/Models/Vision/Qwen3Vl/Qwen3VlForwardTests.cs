using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision.Qwen3Vl;

/// <summary>Images through a Qwen3-VL network: the tower, deepstack, interleaved M-RoPE and the KV cache.</summary>
public class Qwen3VlForwardTests
{
    static float[] Logits(CausalLanguageModel network, int[] tokens, IReadOnlyList<PlacedImage> images)
    {
        using var scope = NewDisposeScope();
        var hidden = network.ForwardWithImages(tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Length]), [images]);
        return network.Logits(hidden)[0].data<float>().ToArray();
    }

    [Fact]
    public void ImageTokensChangeLogprobsAndTheSameImageGivesTheSame()
    {
        using var network = Qwen3VlTestModels.Network();
        var v = network.Config.Vision!;
        var (tokens, a) = VisionTestModels.Row(v, [5, 6], VisionTestModels.RandomImage(v, 4, 6, seed: 1), [7, 8]);
        var first = Logits(network, tokens, [a]);
        var again = Logits(network, tokens, [a with { Patches = VisionTestModels.RandomImage(v, 4, 6, seed: 1) }]);
        var other = Logits(network, tokens, [a with { Patches = VisionTestModels.RandomImage(v, 4, 6, seed: 2) }]);
        Assert.Equal(first, again);
        int vocab = network.Config.VocabSize;
        // Only the last position's logits: after the image, the text reads it.
        double lastChange = first.Skip((tokens.Length - 1) * vocab).Zip(other.Skip((tokens.Length - 1) * vocab)).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(lastChange > 1e-4, $"a different image moved the last logits by only {lastChange}");
        Assert.Equal(first.Take(3 * vocab), other.Take(3 * vocab));   // the text before the image cannot see it (causal)
    }

    [Fact]
    public void KvCacheDecodeAfterAnImagePrefillEqualsTheFullForward()
    {
        using var network = Qwen3VlTestModels.Network();
        var v = network.Config.Vision!;
        var (prompt, placed) = VisionTestModels.Row(v, [5, 6], VisionTestModels.RandomImage(v, 4, 6, seed: 7), [8]);
        int next = 30;
        var full = Logits(network, [.. prompt, next], [placed]);
        int vocab = network.Config.VocabSize;

        using var scope = NewDisposeScope();
        var cache = network.CreateCache(1, 64);
        long t = prompt.Length;
        var rope = VisionLanguageInputs.RopePositions([[placed]], t, 0, v, CPU);
        var prefill = network.Logits(network.Forward(tensor(prompt.Select(x => (long)x).ToArray(), [1, t]), arange(t, dtype: ScalarType.Int64).unsqueeze(0), cache, null, [[placed]], rope));
        var prefillValues = prefill[0].data<float>().ToArray();
        Assert.True(prefillValues.Zip(full.Take(prompt.Length * vocab)).Max(p => Math.Abs(p.First - p.Second)) < 1e-4, "the cached prefill differs from the full forward");
        long delta = MropePositions.For(prompt.Length, [placed], v.SpatialMergeSize).Delta;
        Assert.Equal(-3, delta);   // 6 image tokens on a 2 × 3 grid advance positions by 3 only
        var step = network.Forward(tensor(new long[] { next }, [1, 1]), tensor(new[] { t }, [1, 1]), cache, null, null, tensor(new[] { t + delta }, [1, 1]));
        var decoded = network.Logits(step)[0, 0].data<float>().ToArray();
        var expected = full.Skip(prompt.Length * vocab).ToArray();
        double worst = decoded.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst < 1e-4, $"decode differs from the full forward by {worst}");
    }

    [Fact]
    public void LoraTargetsNameTheQwen3VlModules()
    {
        using var network = Qwen3VlTestModels.Network();
        var targets = network.LoraTargets().Select(t => t.Name).ToHashSet();
        Assert.Contains("model.language_model.layers.0.self_attn.q_proj", targets);
        Assert.Contains("model.visual.merger.linear_fc1", targets);
        Assert.Contains("model.visual.deepstack_merger_list.1.linear_fc2", targets);
        Assert.Contains("model.visual.blocks.2.mlp.linear_fc2", targets);
        // Each target's base weight is found under its name (LoRA's frozen weight lookup).
        Assert.Equal([128L, 128], network.BaseWeight("model.visual.merger.linear_fc1").shape);
    }
}
