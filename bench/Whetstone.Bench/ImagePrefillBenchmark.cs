using System.Diagnostics;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using Whetstone.Engine.Sampling;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>Image prompts through prefill (#17): the sampler's prefill of rows that each hold one
/// 224 × 224 image (256 patches → 64 LM tokens) against text-only rows of the same length, and
/// the tower alone. The model is a random Qwen2.5-VL layout: the "30m" LM (Qwen2) under an
/// 8-block tower of width 256 (112-pixel windows, blocks 3 and 7 full attention) — Qwen2.5-VL's
/// proportions at a size this CPU runs in seconds. FLOPs: 2 per weight per token (patch for the
/// tower) plus attention (windowed blocks over their 64-patch windows).</summary>
internal static class ImagePrefillBenchmark
{
    const int Side = 224, Batch = 4, Length = 128;

    public static void Run(IReadOnlyDictionary<ScalarType, double> peak)
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench", "30m-vl");
        if (!File.Exists(Path.Combine(directory, "config.json")))
            RandomModelWriter.Write(directory, RandomModelSpec.Preset("30m") with
            {
                Family = ModelFamily.Qwen2,
                Vision = new RandomVisionSpec { Depth = 8, HiddenSize = 256, NumHeads = 4, IntermediateSize = 512, WindowSize = 112, FullAttBlockIndexes = [3, 7] },
            });
        Console.WriteLine($"| dtype | text prefill tok/s | image-row prefill tok/s | images/s | tower alone images/s | tower share of image prefill | image prefill % of matmul peak | text % of peak |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var model = PretrainedModel.Load(directory, dtype);
            var config = model.Config;
            var vision = config.Vision!;
            var sampler = new Sampler(model.Network, model.Tokenizer);
            var image = Image(vision);
            int imageTokens = image.Tokens(vision.SpatialMergeSize);
            // text, <|vision_start|>, 64 pads, <|vision_end|>, text: Length tokens in all.
            int[] prompt = [.. Enumerable.Range(300, 8), vision.VisionStartTokenId, .. Enumerable.Repeat(vision.ImageTokenId, imageTokens), vision.VisionEndTokenId,
                .. Enumerable.Range(400, Length - 10 - imageTokens)];
            var parameters = new SamplingParams { MaxTokens = 1, Temperature = 0, IgnoreEos = true };
            var withImages = Enumerable.Range(0, Batch).Select(_ => new SampleRequest(prompt, 1, parameters) { Images = [new PlacedImage(9, image)] }).ToArray();
            var textOnly = Enumerable.Range(0, Batch).Select(b => new SampleRequest(Enumerable.Range(300 + b, Length).ToArray(), 1, parameters)).ToArray();

            double text = BestTime.Seconds(() => sampler.SampleBatch(textOnly), runs: 3, warmUp: true);
            double images = BestTime.Seconds(() => sampler.SampleBatch(withImages), runs: 3, warmUp: true);
            double tower = BestTime.Seconds(() =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                model.Network.Visual!.Forward(Enumerable.Repeat(image, Batch).ToArray(), null, dtype);
            }, runs: 3, warmUp: true);

            double lmFlops = LmFlops(config) * Batch * Length, towerFlops = TowerFlops(vision, image.Patches) * Batch;
            string Share(double flops, double seconds) => $"{100 * flops / seconds / peak[dtype]:F0}%";
            Console.WriteLine($"| {(dtype == ScalarType.Float32 ? "fp32" : "bf16")} | {Batch * Length / text:F0} | {Batch * Length / images:F0} | {Batch / images:F1} | {Batch / tower:F1} | " +
                $"{100 * tower / images:F0}% | {Share(lmFlops + towerFlops, images)} | {Share(lmFlops, text)} |");
        }
    }

    static ImagePatches Image(VisionConfig vision)
    {
        int grid = Side / vision.PatchSize;
        var random = new Random(0);
        var values = new float[grid * grid * vision.PatchValues];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return new ImagePatches(values, 1, grid, grid);
    }

    /// <summary>Per token: 2 FLOPs per matrix weight (embedding gather excluded, tied lm_head
    /// included) plus causal attention over the row.</summary>
    static double LmFlops(ModelConfig c)
    {
        long h = c.HiddenSize, d = c.HeadDim;
        long perLayer = h * c.NumAttentionHeads * d * 2 + h * c.NumKeyValueHeads * d * 2 + 3 * h * c.IntermediateSize;
        double weights = 2.0 * (perLayer * c.NumHiddenLayers + (long)c.VocabSize * h);
        double attention = 2.0 * 2 * c.NumHiddenLayers * c.NumAttentionHeads * d * Length / 2;
        return weights + attention;
    }

    /// <summary>One image: patch embedding, each block's qkv/proj/gated MLP on every patch and its
    /// attention (windowed blocks over a window's patches, full ones over all), the 2×2 merger.</summary>
    static double TowerFlops(VisionConfig v, int patches)
    {
        double h = v.HiddenSize, i = v.IntermediateSize;
        double window = Math.Min(patches, Math.Pow(v.WindowSize / v.PatchSize, 2));
        double perPatch = 2 * v.PatchValues * h;
        for (int block = 0; block < v.Depth; block++)
        {
            double keys = v.FullAttBlockIndexes.Contains(block) ? patches : window;
            perPatch += 2 * (4 * h * h + 3 * h * i) + 2 * 2 * h * keys;
        }
        int m = v.SpatialMergeSize * v.SpatialMergeSize;
        double merger = 2 * (m * h * m * h + m * h * v.OutHiddenSize);
        return perPatch * patches + merger * patches / m;
    }
}
