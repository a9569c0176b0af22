using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision;

/// <summary>A VLM whose tower is the frozen ImageNet ResNet18 (vision_config.whet_frozen_encoder):
/// one 224-pixel tile → 512 pooled features → the trainable projector → one LM token.</summary>
public class FrozenResNetTowerTests
{
    const int Side = FrozenEncoders.ResNet18Side;

    static readonly RandomModelSpec Spec = VisionTestModels.Spec with
    {
        Vision = new RandomVisionSpec { FrozenEncoder = FrozenEncoders.ResNet18 },
    };

    static string Write()
    {
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, Spec with { Seed = 3 });
        return directory;
    }

    /// <summary>A white 224-pixel tile with one coloured square, planar RGB 0–255 (what the
    /// service's preprocessing hands a frozen encoder).</summary>
    static ImagePatches Square(byte r, byte g, byte b, int left = 60, int top = 60, int size = 100) =>
        Picture((r, g, b), (x, y) => x >= left && x < left + size && y >= top && y < top + size);

    /// <summary>A black plus sign (two 30-pixel bars across the middle), same place as the square.</summary>
    static ImagePatches Plus() =>
        Picture((0, 0, 0), (x, y) => x >= 60 && x < 160 && y >= 60 && y < 160 && (Math.Abs(x - 110) < 15 || Math.Abs(y - 110) < 15));

    static ImagePatches Picture((byte R, byte G, byte B) colour, Func<int, int, bool> inside)
    {
        var values = new float[3 * Side * Side];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < Side; y++)
                for (int x = 0; x < Side; x++)
                    values[(c * Side + y) * Side + x] = inside(x, y) ? (c == 0 ? colour.R : c == 1 ? colour.G : colour.B) : 255;
        return new ImagePatches(values, 1, 1, 1);
    }

    static void SkipWithoutResNet() => Assert.SkipUnless(ResNet18Encoder.Available,
        $"the ResNet18 ONNX files are not under {ResNet18Encoder.ModelDirectory} (package Microsoft.ML.DnnImageFeaturizer.ResNet18)");

    [Fact]
    public void TheCheckpointHoldsOnlyTheProjectorAndTheConfigRoundTrips()
    {
        var directory = Write();
        using var file = new SafetensorsFile(Path.Combine(directory, "model.safetensors"));
        var visual = file.TensorNames.Where(n => n.StartsWith("visual.", StringComparison.Ordinal)).Order().ToArray();
        Assert.Equal(["visual.merger.ln_q.weight", "visual.merger.mlp.0.bias", "visual.merger.mlp.0.weight", "visual.merger.mlp.2.bias", "visual.merger.mlp.2.weight"], visual);
        Assert.Equal([512L, 512], file.Shape("visual.merger.mlp.0.weight"));
        Assert.Equal([32L, 512], file.Shape("visual.merger.mlp.2.weight"));
        var config = ModelConfig.Load(directory).Vision!;
        Assert.Equal(FrozenEncoders.ResNet18, config.FrozenEncoder);
        Assert.Equal(224, config.PixelsPerToken);
        Assert.Equal(3 * 224 * 224, config.PatchValues);
        Assert.Equal(4, new ImagePatches(new float[4 * config.PatchValues], 1, 2, 2).Tokens(config.SpatialMergeSize));
    }

    [Fact]
    public void AnUnknownFrozenEncoderIsRefusedByItsKey()
    {
        var directory = Write();
        var path = Path.Combine(directory, "config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace(FrozenEncoders.ResNet18, "vgg16"));
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Load(directory));
        Assert.Contains("vision_config.whet_frozen_encoder", e.Message);
        Assert.Contains("vgg16", e.Message);
    }

    [Fact]
    public void TheSameTileGivesTheSameFeaturesAndADifferentTileDifferentOnes()
    {
        SkipWithoutResNet();
        var encoder = ResNet18Encoder.Instance;
        var red = Square(220, 30, 30).Values;
        var blue = Square(30, 30, 220).Values;
        var first = encoder.Features(red);
        long runs = encoder.Runs;
        var again = encoder.Features((float[])red.Clone());
        Assert.Equal(runs, encoder.Runs);                          // the copy hit the cache
        Assert.Equal(first, again);
        var other = encoder.Features(blue);
        Assert.Equal(512, first.Length);
        // Pooled after a ReLU: every feature is ≥ 0, and a real picture excites many of them.
        Assert.All(first, f => Assert.True(f >= 0, $"feature {f} < 0"));
        Assert.True(first.Count(f => f > 0) > 100, $"{first.Count(f => f > 0)} non-zero features");
        double distance = Math.Sqrt(first.Zip(other).Sum(p => (double)(p.First - p.Second) * (p.First - p.Second)));
        double norm = Math.Sqrt(first.Sum(f => (double)f * f));
        Assert.True(distance > 0.05 * norm, $"red and blue squares differ by {distance:F3} (norm {norm:F3})");
    }

    [Fact]
    public void TheTowerIsTheProjectorAppliedToTheEncodersFeatures()
    {
        SkipWithoutResNet();
        using var network = TestModels.LoadNetwork(Write());
        var image = Square(40, 200, 40);
        using var output = network.Visual!.Forward([image], null, ScalarType.Float32);        // [1, 32]
        Assert.Equal([1L, 32], output.shape);

        // fp64, from the stored weights: RMSNorm → Linear → exact GELU → Linear.
        var p = network.named_parameters().ToDictionary(x => x.name, x => x.parameter.detach().to(ScalarType.Float64));
        var f = tensor(ResNet18Encoder.Instance.Features(image.Values), ScalarType.Float64).unsqueeze(0);
        var normed = f / (f.pow(2).mean([-1], keepdim: true) + 1e-6).sqrt() * p["visual.merger.ln_q.weight"];
        var hidden = normed.matmul(p["visual.merger.mlp.0.weight"].t()) + p["visual.merger.mlp.0.bias"];
        hidden = 0.5 * hidden * (1 + (hidden / Math.Sqrt(2)).erf());
        var expected = hidden.matmul(p["visual.merger.mlp.2.weight"].t()) + p["visual.merger.mlp.2.bias"];
        double error = (output.to(ScalarType.Float64) - expected).abs().max().item<double>();
        Assert.True(error < 1e-4, $"tower output differs from the fp64 reference by {error}");
    }

    /// <summary>A black square and a black plus sign, each with its own answer token. (A red and a
    /// blue square are a poor pair: ImageNet features barely tell colours apart, and the zoo run
    /// on these features read shape at 100% but colour at chance.)</summary>
    static Datum[] SquareAndPlus(VisionConfig v) => new[] { Square(0, 0, 0), Plus() }.Select((picture, i) =>
    {
        var (tokens, placed) = VisionTestModels.Row(v, [5], picture, [40 + i]);
        return new Datum
        {
            InputTokens = tokens[..^1], TargetTokens = tokens[1..], Images = [placed],
            Weights = tokens[1..].Select((_, k) => k == tokens.Length - 2 ? 1f : 0f).ToArray(),
        };
    }).ToArray();

    [Fact]
    public void ALoraStepOnImagePromptsLowersTheirLossThroughTheProjector()
    {
        SkipWithoutResNet();
        using var network = TestModels.LoadNetwork(Write());
        var data = SquareAndPlus(network.Config.Vision!);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4, Seed = 1 });
        Assert.Contains(run.Adapter!.Weights, w => w.Target.Name == "visual.merger.mlp.0");
        var loss = LossSpec.Parse("cross_entropy");
        double before = run.ForwardBackward(data, loss).Loss / 2;
        run.OptimStep(new AdamParams { LearningRate = 1e-2 });
        double after = run.Forward(data, loss).Loss / 2;
        Assert.True(after < before - 0.05, $"one step: loss per answer {before:F3} → {after:F3}");
        var projector = run.Adapter.Weights.First(w => w.Target.Name == "visual.merger.mlp.0");
        Assert.True(projector.B.abs().max().item<float>() > 0, "the projector's LoRA B did not move: no gradient reached it");
    }

    /// <summary>Square against plus sign, different answers: below ln 2 only if the LM reads the
    /// encoder's features through the projector (the encoder itself is frozen).</summary>
    [Fact]
    public void TrainingTheProjectorAndLmLearnsAnAnswerOnlyTheImageTells()
    {
        SkipWithoutResNet();
        using var network = TestModels.LoadNetwork(Write());
        var data = SquareAndPlus(network.Config.Vision!);
        using var run = TrainingRun.CreateFull(network);
        var loss = LossSpec.Parse("cross_entropy");
        for (int step = 0; step < 40; step++)
        {
            run.ForwardBackward(data, loss);
            run.OptimStep(new AdamParams { LearningRate = 1e-2 });
        }
        double perAnswer = run.Forward(data, loss).Loss / 2;
        Assert.True(perAnswer < 0.2, $"loss per answer {perAnswer:F3} after 40 steps (ln 2 = 0.693 is what ignoring the image allows)");
    }
}
