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

    [Fact]
    public void FullFineTuningResumesBitForBit()
    {
        var checkpoint = TestModels.WriteCheckpoint(Config, seed: 2);
        using var a = TestModels.LoadNetwork(checkpoint);
        using var b = TestModels.LoadNetwork(checkpoint);
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
