using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision;

/// <summary>Images through the LM: spliced embeddings, M-RoPE, batching, the KV cache and LoRA.</summary>
public class VisionLanguageForwardTests
{
    static float[] LastLogits(CausalLanguageModel network, int[] tokens, IReadOnlyList<PlacedImage> images)
    {
        using var scope = NewDisposeScope();
        var hidden = network.ForwardWithImages(tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Length]), [images]);
        return network.Logits(hidden)[0].data<float>().ToArray();
    }

    [Fact]
    public void ImageTokensChangeLogprobsAndTheSameImageGivesTheSame()
    {
        using var network = VisionTestModels.Network();
        var v = network.Config.Vision!;
        var (tokens, a) = VisionTestModels.Row(v, [5, 6], VisionTestModels.RandomImage(v, 4, 4, seed: 1), [7, 8]);
        var b = a with { Patches = VisionTestModels.RandomImage(v, 4, 4, seed: 2) };
        var first = LastLogits(network, tokens, [a]);
        var again = LastLogits(network, tokens, [a with { Patches = VisionTestModels.RandomImage(v, 4, 4, seed: 1) }]);
        var other = LastLogits(network, tokens, [b]);
        Assert.Equal(first, again);
        Assert.True(first.Zip(other).Max(p => Math.Abs(p.First - p.Second)) > 1e-4, "a different image left the logits unchanged");
        // The text before the image cannot see it (causal): its logits are identical.
        int vocab = network.Config.VocabSize;
        Assert.Equal(first.Take(3 * vocab), other.Take(3 * vocab));
    }

    [Fact]
    public void MixedBatchOfImageAndTextRowsEqualsEachRowAlone()
    {
        using var network = VisionTestModels.Network();
        var v = network.Config.Vision!;
        var (imageRow, placed) = VisionTestModels.Row(v, [5], VisionTestModels.RandomImage(v, 4, 6, seed: 3), [9, 10, 11]);
        var (twoImages, p1) = VisionTestModels.Row(v, [], VisionTestModels.RandomImage(v, 2, 2, seed: 4), [12]);
        var second = new PlacedImage(twoImages.Length + 1, VisionTestModels.RandomImage(v, 4, 2, seed: 6));
        twoImages = [.. twoImages, v.VisionStartTokenId, .. Enumerable.Repeat(v.ImageTokenId, 2), v.VisionEndTokenId, 13];
        int[] textRow = [20, 21, 22, 23];
        var rows = new[] { (imageRow, new[] { placed }), (textRow, Array.Empty<PlacedImage>()), (twoImages, new[] { p1, second }) };
        int length = rows.Max(r => r.Item1.Length);
        var padded = rows.SelectMany(r => r.Item1.Concat(Enumerable.Repeat(0, length - r.Item1.Length))).Select(t => (long)t).ToArray();
        using var scope = NewDisposeScope();
        var batch = network.Logits(network.ForwardWithImages(tensor(padded, [3, length]), rows.Select(r => (IReadOnlyList<PlacedImage>)r.Item2).ToArray()));
        for (int r = 0; r < 3; r++)
        {
            var alone = LastLogits(network, rows[r].Item1, rows[r].Item2);
            var inBatch = batch[r, TensorIndex.Slice(0, rows[r].Item1.Length)].data<float>().ToArray();
            Assert.True(alone.Zip(inBatch).Max(p => Math.Abs(p.First - p.Second)) < 1e-5, $"row {r} differs");
        }
        // The text row equals the plain text forward (no M-RoPE difference for text).
        var plain = network.Logits(network.Forward(tensor(textRow.Select(t => (long)t).ToArray(), [1, 4])))[0].data<float>().ToArray();
        Assert.Equal(plain, LastLogits(network, textRow, []));
    }

    [Fact]
    public void KvCacheDecodeAfterAnImagePrefillEqualsTheFullForward()
    {
        using var network = VisionTestModels.Network();
        var v = network.Config.Vision!;
        var (prompt, placed) = VisionTestModels.Row(v, [5, 6], VisionTestModels.RandomImage(v, 4, 6, seed: 7), [8]);
        int next = 30;
        var full = LastLogits(network, [.. prompt, next], [placed]);
        int vocab = network.Config.VocabSize;

        using var scope = NewDisposeScope();
        var cache = network.CreateCache(1, 64);
        long t = prompt.Length;
        var rope = VisionLanguageInputs.RopePositions([[placed]], t, 0, v, CPU);
        network.Forward(tensor(prompt.Select(x => (long)x).ToArray(), [1, t]), arange(t, dtype: ScalarType.Int64).unsqueeze(0), cache, null, [[placed]], rope);
        long delta = MropePositions.For(prompt.Length, [placed], v.SpatialMergeSize).Delta;
        Assert.True(delta < 0);   // 6 image tokens on a 2 × 3 grid advance positions by 3 only
        var step = network.Forward(tensor(new long[] { next }, [1, 1]), tensor(new[] { t }, [1, 1]), cache, null, null, tensor(new[] { t + delta }, [1, 1]));
        var decoded = network.Logits(step)[0, 0].data<float>().ToArray();
        var expected = full.Skip(prompt.Length * vocab).ToArray();
        Assert.True(decoded.Zip(expected).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
    }

    [Fact]
    public void LoraStepOnImagePromptsLowersTheirLossAndTrainsTheProjector()
    {
        using var network = VisionTestModels.Network();
        var v = network.Config.Vision!;
        var data = Enumerable.Range(0, 2).Select(i =>
        {
            var (tokens, placed) = VisionTestModels.Row(v, [5], VisionTestModels.RandomImage(v, 4, 4, seed: 10 + i), [40 + i, 50 + i, 60 + i]);
            return new Datum
            {
                InputTokens = tokens[..^1], TargetTokens = tokens[1..], Images = [placed],
                Weights = tokens[1..].Select((_, k) => k >= tokens.Length - 4 ? 1f : 0f).ToArray(),
            };
        }).ToArray();
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4, Seed = 1 });
        Assert.Contains(run.Adapter!.Weights, w => w.Target.Name == "visual.merger.mlp.0");
        Assert.DoesNotContain(run.Adapter!.Weights, w => w.Target.Name.StartsWith("visual.blocks.", StringComparison.Ordinal));
        var loss = LossSpec.Parse("cross_entropy");
        double before = run.ForwardBackward(data, loss).Loss;
        run.OptimStep(new AdamParams { LearningRate = 1e-2 });
        double after = run.Forward(data, loss).Loss;
        Assert.True(after < before - 0.05, $"loss {before} → {after}");
        var projector = run.Adapter.Weights.First(w => w.Target.Name == "visual.merger.mlp.0");
        Assert.True(projector.B.abs().max().item<float>() > 0, "the projector's LoRA B did not move: no gradient reached it");
    }

    [Fact]
    public void TowerLoraIsOptIn()
    {
        using var network = VisionTestModels.Network();
        using var adapter = LoraAdapter.Create(network.LoraTargets(), new LoraConfig { Rank = 2, TrainVisionTower = true });
        Assert.Contains(adapter.Weights, w => w.Target.Name == "visual.blocks.0.attn.qkv");
        Assert.Contains(adapter.Weights, w => w.Target.Name == "visual.blocks.1.mlp.down_proj");
    }

    [Fact]
    public void TowerLoraGetsGradientsWhenOn()
    {
        using var network = VisionTestModels.Network();
        var v = network.Config.Vision!;
        var (tokens, placed) = VisionTestModels.Row(v, [5], VisionTestModels.RandomImage(v, 4, 4, seed: 7), [40, 41]);
        var data = new[] { new Datum
        {
            InputTokens = tokens[..^1], TargetTokens = tokens[1..], Images = [placed],
            Weights = tokens[1..].Select((_, k) => k >= tokens.Length - 3 ? 1f : 0f).ToArray(),
        } };
        Assert.False(new LoraConfig().TrainVisionTower);                           // off by default
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 2, Seed = 1, TrainVisionTower = true });
        var tower = run.Adapter!.Weights.Where(w => w.Target.Name.StartsWith("visual.blocks.", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2 * 5, tower.Length);                                            // qkv, proj, gate, up, down per block
        Assert.All(tower, w => Assert.Equal(0f, w.B.abs().max().item<float>()));     // B starts at zero
        run.ForwardBackward(data, LossSpec.Parse("cross_entropy"));
        run.OptimStep(new AdamParams { LearningRate = 1e-3 });
        // Adam moves a factor by about lr wherever its gradient is non-zero; zero gradient leaves it at 0.
        foreach (var w in tower)
            Assert.True(w.B.abs().max().item<float>() > 1e-4, $"{w.Target.Name}: its LoRA B did not move, so no gradient reached it");
    }
}
