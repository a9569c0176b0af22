using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision;

/// <summary>Why the zoo VLM stayed at chance, kept as a regression test. Two 84 × 84 white
/// pictures, a red and a blue 20-pixel square in the centre cell, must each give their own answer
/// token. Trained from scratch with one Adam rate for everything, the tower's response to the white
/// background grows far faster than its response to the colour (Adam moves each of the patch
/// embedding's 1176 inputs' weights by ≈ lr, and on white they all read ≈ +2, so the common
/// response grows by ≈ lr·‖x‖₁ per step), the two pictures' features become parallel and the
/// answer loss stays at ln 2. With the tower at a tenth of the rate the answer is learned.</summary>
public class VisionTowerLearningRateTests
{
    static readonly (byte, byte, byte) Red = (220, 30, 30), Blue = (30, 60, 220);

    [Fact]
    public void AtTheLanguageModelsRateTheWhiteBackgroundSwampsTheColour()
    {
        using var network = VisionTestModels.Network();
        var (pictures, data) = RedAndBlue(network);
        double whiteBefore = PatchResponse(network, pictures[0], 0), colourBefore = ColourDifference(network, pictures);
        using var run = TrainingRun.CreateFull(network);
        Train(run, data, new AdamParams { LearningRate = 1e-2 }, steps: 30);

        double whiteGrowth = PatchResponse(network, pictures[0], 0) / whiteBefore;
        double colourGrowth = ColourDifference(network, pictures) / colourBefore;
        double cosine = SquareTokenCosine(network, pictures);
        Assert.True(whiteGrowth > 5 * colourGrowth, $"white response ×{whiteGrowth:F1}, red−blue difference ×{colourGrowth:F1}");
        Assert.True(cosine > 0.999, $"cosine of the red and blue square tokens {cosine:F5}");
        double perAnswer = run.Forward(data, LossSpec.Parse("cross_entropy")).Loss / 2;
        Assert.True(perAnswer > 0.6, $"loss per answer {perAnswer:F3}: the colour got through after all");
    }

    [Fact]
    public void WithTheTowerAtATenthOfTheRateTheColourIsLearned()
    {
        using var network = VisionTestModels.Network();
        var (pictures, data) = RedAndBlue(network);
        using var run = TrainingRun.CreateFull(network);
        Train(run, data, new AdamParams { LearningRate = 3e-3, VisionLearningRateScale = 0.1 }, steps: 80);
        double perAnswer = run.Forward(data, LossSpec.Parse("cross_entropy")).Loss / 2;
        Assert.True(perAnswer < 0.15, $"loss per answer {perAnswer:F3} (ln 2 = 0.693 is what ignoring the picture allows)");
        Assert.True(SquareTokenCosine(network, pictures) < 0.9);
    }

    [Fact]
    public void TheScaleMovesOnlyTheTower()
    {
        using var network = VisionTestModels.Network();
        var (_, data) = RedAndBlue(network);
        var before = network.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var run = TrainingRun.CreateFull(network);
        Train(run, data, new AdamParams { LearningRate = 1e-2, VisionLearningRateScale = 0 }, steps: 1);
        foreach (var (name, p) in network.named_parameters())
        {
            double moved = (p - before[name]).abs().max().item<float>();
            if (name.StartsWith("visual.")) Assert.True(moved == 0, $"{name} moved by {moved}");
            else if (name.EndsWith(".weight") && name.Contains("proj")) Assert.True(moved > 1e-3, $"{name} moved only {moved}");
        }
    }

    [Fact]
    public void ANegativeScaleIsRefusedByName()
    {
        var error = Assert.Throws<TrainingArgumentException>(() => new AdamParams { VisionLearningRateScale = -0.5 }.Validate());
        Assert.Contains("vision_learning_rate_scale", error.Message);
        Assert.Contains("-0.5", error.Message);
    }

    static (ImagePatches[] Pictures, Datum[] Data) RedAndBlue(CausalLanguageModel network)
    {
        var v = network.Config.Vision!;
        // The centre cell of ShapeScenes' 3 × 3 grid: a 20-pixel square inside one LM token.
        ImagePatches[] pictures = [VisionTestModels.SquarePicture(v, 84, Red, 32, 32, 20), VisionTestModels.SquarePicture(v, 84, Blue, 32, 32, 20)];
        var data = pictures.Select((picture, i) =>
        {
            var (tokens, placed) = VisionTestModels.Row(v, [5], picture, [40 + i]);
            return new Datum
            {
                InputTokens = tokens[..^1], TargetTokens = tokens[1..], Images = [placed],
                Weights = tokens[1..].Select((_, k) => k == tokens.Length - 2 ? 1f : 0f).ToArray(),
            };
        }).ToArray();
        return (pictures, data);
    }

    static void Train(TrainingRun run, Datum[] data, AdamParams adam, int steps)
    {
        var loss = LossSpec.Parse("cross_entropy");
        for (int step = 0; step < steps; step++)
        {
            run.ForwardBackward(data, loss);
            run.OptimStep(adam);
        }
    }

    static Tensor PatchEmbedding(CausalLanguageModel network, ImagePatches picture)
    {
        var kernel = network.named_parameters().First(p => p.name == "visual.patch_embed.proj.weight").parameter.detach().flatten(1);
        return nn.functional.linear(tensor(picture.Values).view(picture.Patches, -1), kernel);
    }

    /// <summary>‖patch embedding‖ of one patch (patch 0 is all white).</summary>
    static double PatchResponse(CausalLanguageModel network, ImagePatches picture, int patch)
    {
        using var _ = NewDisposeScope();
        return PatchEmbedding(network, picture)[patch].norm().item<float>();
    }

    /// <summary>‖embedding(red) − embedding(blue)‖ over the patches the square covers.</summary>
    static double ColourDifference(CausalLanguageModel network, ImagePatches[] pictures)
    {
        using var _ = NewDisposeScope();
        return (PatchEmbedding(network, pictures[0]) - PatchEmbedding(network, pictures[1])).norm().item<float>();
    }

    /// <summary>Cosine between the two pictures' tower outputs at the square's LM token (the
    /// centre one of 3 × 3).</summary>
    static double SquareTokenCosine(CausalLanguageModel network, ImagePatches[] pictures)
    {
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        var red = network.Visual!.Forward([pictures[0]], null, ScalarType.Float32)[4];
        var blue = network.Visual!.Forward([pictures[1]], null, ScalarType.Float32)[4];
        return nn.functional.cosine_similarity(red, blue, 0).item<float>();
    }
}
