using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Training;

public class TrainingCheckpointTests
{
    static readonly ModelConfig Config = TestModels.Config(ModelFamily.Qwen3, hidden: 32, layers: 2, vocab: 53);
    static readonly LossSpec CrossEntropy = LossSpec.Parse("cross_entropy");
    static readonly AdamParams Adam = new() { LearningRate = 5e-3, WeightDecay = 0.01, GradClipNorm = 1.0 };

    static List<Datum> Batch(int step) => TrainingTestData.Random(Config.VocabSize, [6, 9, 4], seed: 100 + step);

    static double Step(TrainingRun run, int step)
    {
        double loss = run.ForwardBackward(Batch(step), CrossEntropy).Loss;
        run.OptimStep(Adam);
        return loss;
    }

    [Fact]
    public void ResumeFromCheckpointEqualsAnUninterruptedRunBitForBit()
    {
        using var network = TestModels.Network(Config);
        var directory = Path.Combine(TestModels.TempDirectory(), "step3");
        var lora = new LoraConfig { Rank = 4, Seed = 9 };

        using var uninterrupted = TrainingRun.CreateLora(network, lora);
        var losses = new List<double>();
        for (int s = 0; s < 6; s++)
        {
            losses.Add(Step(uninterrupted, s));
            if (s == 2) TrainingCheckpoint.Save(uninterrupted, directory);
        }

        using var resumed = TrainingCheckpoint.LoadLora(network, directory, withOptimizer: true);
        Assert.Equal(3, resumed.Step);
        var resumedLosses = new List<double>();
        for (int s = 3; s < 6; s++) resumedLosses.Add(Step(resumed, s));

        Assert.Equal(losses.Skip(3), resumedLosses);
        foreach (var ((name, a), (_, b)) in uninterrupted.Adapter!.NamedParameters().Zip(resumed.Adapter!.NamedParameters()))
            Assert.True(a.equal(b).all().item<bool>(), $"{name} differs after resuming");
        foreach (var (a, b) in uninterrupted.Optimizer.State().Zip(resumed.Optimizer.State()))
            Assert.True(a.Value.equal(b.Value).all().item<bool>(), $"{a.Key} differs after resuming");
    }

    [Fact]
    public void LoadingWithoutOptimizerStartsAdamFresh()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4 });
        for (int s = 0; s < 2; s++) Step(run, s);
        var directory = Path.Combine(TestModels.TempDirectory(), "state");
        TrainingCheckpoint.Save(run, directory);
        using var weightsOnly = TrainingCheckpoint.LoadLora(network, directory, withOptimizer: false);
        Assert.Equal(0, weightsOnly.Step);
        Assert.All(weightsOnly.Optimizer.State(), s => Assert.Equal(0f, s.Value.abs().max().item<float>()));
        foreach (var ((_, a), (_, b)) in run.Adapter!.NamedParameters().Zip(weightsOnly.Adapter!.NamedParameters()))
            Assert.True(a.equal(b).all().item<bool>());
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void FullFineTuningResumesBitForBit(ScalarType dtype)
    {
        var checkpoint = TestModels.WriteCheckpoint(Config, seed: 2);
        using var a = TestModels.LoadNetwork(checkpoint, dtype);
        using var b = TestModels.LoadNetwork(checkpoint, dtype);
        using var uninterrupted = TrainingRun.CreateFull(a);
        using var resumed = TrainingRun.CreateFull(b);
        var directory = Path.Combine(TestModels.TempDirectory(), "full");
        for (int s = 0; s < 4; s++)
        {
            Step(uninterrupted, s);
            if (s == 1) TrainingCheckpoint.Save(uninterrupted, directory);
        }
        TrainingCheckpoint.LoadInto(resumed, directory, withOptimizer: true);
        for (int s = 2; s < 4; s++) Step(resumed, s);
        foreach (var ((name, x), (_, y)) in a.named_parameters().Zip(b.named_parameters()))
            Assert.True(x.equal(y).all().item<bool>(), $"{name} differs after resuming");
        // bf16 runs keep fp32 master weights: those, too, must continue exactly.
        for (int i = 0; i < uninterrupted.Optimizer.Parameters.Count; i++)
            Assert.True(uninterrupted.Optimizer.Weight(i).equal(resumed.Optimizer.Weight(i)).all().item<bool>(),
                $"{uninterrupted.Optimizer.Parameters[i].Name} master differs after resuming");
    }

    /// <summary>Small updates must not vanish in bf16 rounding: a bf16 full fine-tuning run's
    /// weights travel as far as the fp32 run's do (the optimizer updates fp32 masters).</summary>
    [Fact]
    public void BFloat16FullFineTuningMovesItsWeightsLikeFp32()
    {
        // Stored in bf16 so that both runs start from identical values.
        var checkpoint = TestModels.WriteCheckpoint(Config, seed: 4, dtype: ScalarType.BFloat16);
        using var fp32 = TestModels.LoadNetwork(checkpoint, ScalarType.Float32);
        using var bf16 = TestModels.LoadNetwork(checkpoint, ScalarType.BFloat16);
        using var initial = TestModels.LoadNetwork(checkpoint, ScalarType.Float32);
        using var fullRun = TrainingRun.CreateFull(fp32);
        using var halfRun = TrainingRun.CreateFull(bf16);
        var tiny = new AdamParams { LearningRate = 2e-5 };
        for (int s = 0; s < 5; s++)
        {
            fullRun.ForwardBackward(Batch(s), CrossEntropy);
            fullRun.OptimStep(tiny);
            halfRun.ForwardBackward(Batch(s), CrossEntropy);
            halfRun.OptimStep(tiny);
        }
        using var scope = NewDisposeScope();
        var start = initial.named_parameters().Select(p => p.parameter).ToArray();
        double fullTravel = 0, halfTravel = 0, disagreement = 0;
        for (int i = 0; i < start.Length; i++)
        {
            var full = fullRun.Optimizer.Weight(i) - start[i];
            var half = halfRun.Optimizer.Weight(i).to(ScalarType.Float32) - start[i];
            fullTravel += full.pow(2).sum().item<float>();
            halfTravel += half.pow(2).sum().item<float>();
            disagreement += (full - half).pow(2).sum().item<float>();
        }
        Assert.True(fullTravel > 0);
        Assert.InRange(Math.Sqrt(halfTravel / fullTravel), 0.8, 1.25);
        Assert.True(Math.Sqrt(disagreement / fullTravel) < 0.5, $"bf16 run went elsewhere: relative disagreement {Math.Sqrt(disagreement / fullTravel):F3}");
    }

    [Fact]
    public void CorruptedCheckpointIsDetectedAndRefused()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4 });
        Step(run, 0);
        var directory = Path.Combine(TestModels.TempDirectory(), "state");
        TrainingCheckpoint.Save(run, directory);
        var file = Path.Combine(directory, "state.safetensors");
        var bytes = File.ReadAllBytes(file);
        bytes[^10] ^= 0x40;
        File.WriteAllBytes(file, bytes);
        var error = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.LoadLora(network, directory, withOptimizer: true));
        Assert.Contains("state.safetensors", error.Message);
        Assert.Contains("corrupted", error.Message);

        File.Delete(Path.Combine(directory, CheckpointDirectory.ManifestName));
        Assert.Contains("manifest", Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.LoadLora(network, directory, true)).Message);
    }

    [Fact]
    public void SavingOverAnExistingCheckpointReplacesItWhole()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4 });
        var directory = Path.Combine(TestModels.TempDirectory(), "latest");
        Step(run, 0);
        TrainingCheckpoint.Save(run, directory);
        Step(run, 1);
        TrainingCheckpoint.Save(run, directory);
        using var loaded = TrainingCheckpoint.LoadLora(network, directory, withOptimizer: true);
        Assert.Equal(2, loaded.Step);
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetDirectoryName(directory)!), d => Path.GetFileName(d).StartsWith('.'));
    }
}
