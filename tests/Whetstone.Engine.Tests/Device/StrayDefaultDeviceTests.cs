using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Tests.Training;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Device;

/// <summary>The runtime half of the device proof (issue #21). The model is on the CPU, named
/// explicitly, while libtorch's default device is switched to meta: a tensor the engine makes
/// without naming the model's device is then a meta tensor, which either fails at once (a device
/// mismatch, or an op meta cannot run) or turns every result after it into meta, which cannot be
/// read. So when loading, sampling (greedy, tempered with top-k/top-p, several samples, prompt and
/// top logprobs, scattered and side-by-side adapters), logprobs, a LoRA forward-backward and AdamW
/// step, a reward model's value pass, a checkpoint round trip and full fine-tuning all give the same
/// numbers as with the default left alone, no engine path made a tensor off the model's device.
/// Unlike a model on meta, every op runs with real data here, sampling and reads included.</summary>
[Collection(nameof(DefaultDeviceCollection))]
public class StrayDefaultDeviceTests
{
    static readonly string ModelDirectory = WriteModel();

    static string WriteModel()
    {
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, new RandomModelSpec
        {
            Family = ModelFamily.Qwen3, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            HeadDim = 16, IntermediateSize = 64, MaxPositionEmbeddings = 128, Seed = 21,
        });
        return directory;
    }

    [Fact]
    public void TheWholeEngineGivesTheSameNumbersWhenTheDefaultDeviceIsMeta()
    {
        var reference = Run(ScalarType.Float32);
        var underMeta = DefaultDevice.With(DefaultDevice.Meta, () => Run(ScalarType.Float32));
        Assert.True(reference.Count > 100, $"only {reference.Count} numbers: the scenario did not run");
        Assert.Equal(reference, underMeta);
    }

    [Fact]
    public void Bf16ModelsDecodeAndTrainTheSameWhenTheDefaultDeviceIsMeta()
    {
        // bf16: the decode kernels' bf16 path, fp32 master weights of a full fine-tuning run.
        var reference = Run(ScalarType.BFloat16);
        var underMeta = DefaultDevice.With(DefaultDevice.Meta, () => Run(ScalarType.BFloat16));
        Assert.Equal(reference, underMeta);
    }

    [Fact]
    public void ADeviceLessTensorIsCaughtByTheMetaDefault()
    {
        // The check can fail: a token tensor made without the model's device is refused.
        using var model = PretrainedModel.Load(ModelDirectory);
        var e = Record.Exception(() => DefaultDevice.With(DefaultDevice.Meta, () =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return model.Network.Logits(model.Network.Forward(tensor(new long[] { 1, 2, 3 }).unsqueeze(0))).sum().item<float>();
        }));
        Assert.NotNull(e);
        Assert.Contains("meta", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    // Random A and B (a fresh adapter's B is zero), made on the model's device: test code must name it too.
    static LoraAdapter RandomAdapter(CausalLanguageModel network, LoraConfig config, long seed)
    {
        var generator = new Generator((ulong)seed);
        return LoraAdapter.FromTensors(network.LoraTargets(), config, target =>
            (randn([config.Rank, target.InFeatures], generator: generator, device: network.Device) * 0.1,
             randn([target.OutFeatures, config.Rank], generator: generator, device: network.Device) * 0.1));
    }

    /// <summary>Every number the scenario produces, in order.</summary>
    static List<double> Run(ScalarType dtype)
    {
        var numbers = new List<double>();
        using var model = PretrainedModel.Load(ModelDirectory, dtype, CPU);
        var network = model.Network;
        int vocab = network.Config.VocabSize;
        var loraConfig = new LoraConfig { Rank = 4, Seed = 3 };
        using var adapterA = RandomAdapter(network, loraConfig, seed: 31);
        using var adapterB = RandomAdapter(network, loraConfig, seed: 32);

        // Sampling: two requests with different adapters share a batch; prompt and top logprobs.
        var sampler = new Sampler(network, model.Tokenizer);
        int[] prompt = [5, 17, 29, 41, 3, 8];
        var results = sampler.SampleBatch([
            new SampleRequest(prompt, 1, new SamplingParams { MaxTokens = 6, Temperature = 0, IgnoreEos = true })
                { IncludePromptLogprobs = true, TopkPromptLogprobs = 3, TopLogprobs = 2 },
            new SampleRequest(prompt[..4], 3, new SamplingParams { MaxTokens = 5, Temperature = 0.8, TopK = 7, TopP = 0.9, Seed = 5, IgnoreEos = true })
                { Adapter = adapterA },
            new SampleRequest(prompt[1..], 2, new SamplingParams { MaxTokens = 4, Temperature = 1.1, Seed = 6, IgnoreEos = true })
                { Adapter = adapterB },
        ]);
        foreach (var result in results)
        {
            foreach (var s in result.Sequences) { numbers.AddRange(s.Tokens.Select(t => (double)t)); numbers.AddRange(s.Logprobs.Select(l => (double)l)); }
            numbers.AddRange(result.PromptLogprobs?.Select(l => (double)(l ?? 0)) ?? []);
            numbers.AddRange(result.TopkPromptLogprobs?.SelectMany(t => t ?? []).Select(t => (double)t.Logprob + t.Token) ?? []);
        }
        numbers.AddRange(sampler.ComputeLogprobs(prompt, adapterA).Select(l => (double)(l ?? 0)));

        // A forward over scattered rows of one adapter, and side by side with another (decode-sized, no grad).
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var tokens = tensor(new long[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, [3, 3], device: network.Device);
            using var scattered = new AdapterBatch([adapterA, null, adapterA]);
            using var sideBySide = new AdapterBatch([adapterA, adapterB, adapterA]);
            numbers.Add(network.Logits(network.Forward(tokens, adapters: scattered), scattered).sum().item<float>());
            numbers.Add(network.Logits(network.Forward(tokens, adapters: sideBySide), sideBySide).sum().item<float>());
        }

        // LoRA training: a loss that reads weights, logprobs and advantages; AdamW; forward again.
        var data = TrainingTestData.Random(vocab, [7, 4, 9], seed: 8);
        using (var run = TrainingRun.CreateLora(network, loraConfig with { Seed = 9 }))
        {
            numbers.Add(run.ForwardBackward(data, LossSpec.Parse("ppo")).Loss);
            numbers.Add(run.ForwardBackward(data, LossSpec.Parse("cross_entropy")).Loss);
            numbers.Add(run.OptimStep(new AdamParams { LearningRate = 1e-2 }).GradientNorm);
            numbers.AddRange(run.Forward(data, LossSpec.Parse("cross_entropy")).Logprobs.SelectMany(l => l).Select(l => (double)l));

            // Checkpoint round trip (written from and read to the CPU), with the optimizer.
            var directory = Path.Combine(TestModels.TempDirectory(), "state");
            TrainingCheckpoint.Save(run, directory);
            using var resumed = TrainingCheckpoint.LoadLora(network, directory, withOptimizer: true);
            resumed.ForwardBackward(data, LossSpec.Parse("cross_entropy"));
            numbers.Add(resumed.OptimStep(new AdamParams { LearningRate = 1e-2 }).GradientNorm);
        }

        // A reward model: LoRA with a value head, Bradley-Terry loss, one step.
        using (var reward = TrainingRun.CreateLora(network, new LoraConfig { Rank = 2, Seed = 4, ValueHead = true }))
        {
            var work = new ValueWork([[1, 2, 3, 4], [5, 6, 7], [8, 9, 10, 11, 12], [13, 14]]) { Loss = ValueLoss.Parse("bradley_terry") };
            var values = reward.ForwardBackwardValues(work);
            numbers.Add(values.Loss);
            numbers.AddRange(values.Values);
            numbers.Add(reward.OptimStep(new AdamParams { LearningRate = 1e-2 }).GradientNorm);
        }

        // Full fine-tuning on a copy of the model (bf16: fp32 master weights take the update).
        using (var own = PretrainedModel.Load(ModelDirectory, dtype, CPU))
        using (var full = TrainingRun.CreateFull(own.Network))
        {
            numbers.Add(full.ForwardBackward(data, LossSpec.Parse("cross_entropy")).Loss);
            numbers.Add(full.OptimStep(new AdamParams { LearningRate = 1e-3 }).GradientNorm);
            numbers.Add(full.Forward(data, LossSpec.Parse("cross_entropy")).Loss);
        }
        return numbers;
    }
}
