using LLama;
using LLama.Common;
using LLama.Native;
using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Formats.Gguf;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using static TorchSharp.torch;
using LoraAdapter = Whetstone.Engine.Lora.LoraAdapter;

namespace Whetstone.Engine.Tests.Formats;

/// <summary>The models we ship (every directory under models/ with weights: whet-nano, and
/// whet-micro once it is there), exported to GGUF and run in llama.cpp through LLamaSharp, answer
/// held-out chat prompts from the corpus with the same greedy tokens as our sampler, with
/// next-token log-probabilities within <see cref="LogprobTolerance"/> — as shipped, and with a
/// LoRA adapter fine-tuned here, merged into the export.</summary>
public class ZooModelParityTests(ITestOutputHelper output)
{
    // f32 GGUF of bf16-stored weights (exact), f32 KV cache, flash attention off: the two sides
    // differ only in summation order. Measured 1.6e-5 on whet-nano (a trained model's logits are
    // larger than a random one's, so order matters more than the 4.8e-7 of LlamaCppParityTests);
    // the bound leaves headroom for larger models' longer sums.
    const float LogprobTolerance = 1e-4f;
    const int MaxTokens = 24;

    /// <summary>The shipped dense text models: what GGUF export writes and llama.cpp runs.</summary>
    public static TheoryData<string> ZooModels() => Shipped(exportable: true);

    /// <summary>The shipped models GGUF export refuses (MoE/MLA, vision).</summary>
    public static TheoryData<string> NonExportableZooModels() => Shipped(exportable: false);

    static TheoryData<string> Shipped(bool exportable)
    {
        var data = new TheoryData<string>();
        foreach (var directory in Directory.GetDirectories(ShippedModels.Root).Order())
            if (File.Exists(Path.Combine(directory, "config.json"))
                && Directory.EnumerateFiles(directory, "*.safetensors").Any()
                && IsDenseText(ModelConfig.Load(directory)) == exportable)
                data.Add(Path.GetFileName(directory));
        return data;
    }

    static bool IsDenseText(ModelConfig config) =>
        config.Family is ModelFamily.Llama or ModelFamily.Qwen2 or ModelFamily.Qwen3 && config.Vision is null;

    [Theory]
    [MemberData(nameof(NonExportableZooModels))]
    public void ExportOfAModelLlamaCppCouldNotLoadIsRefusedByModelType(string name)
    {
        var directory = ShippedModels.Directory(name);
        var gguf = Path.Combine(TestModels.TempDirectory(), $"{name}.gguf");
        var error = Assert.Throws<NotSupportedException>(() => GgufExporter.Export(directory, gguf, ScalarType.Float32));
        Assert.Contains("model_type", error.Message);
        Assert.False(File.Exists(gguf), "no file is written for a refused export");
    }

    [Theory]
    [MemberData(nameof(ZooModels))]
    public void ShippedModelMatchesLlamaCpp(string name)
    {
        var directory = ShippedModels.Directory(name);
        var gguf = Path.Combine(TestModels.TempDirectory(), $"{name}.gguf");
        GgufExporter.Export(directory, gguf, ScalarType.Float32);
        using var model = PretrainedModel.Load(directory);
        CompareWithLlamaCpp(model, adapter: null, gguf, $"{name}");
    }

    [Theory]
    [MemberData(nameof(ZooModels))]
    public void FineTunedAdapterMergedIntoTheShippedModelMatchesLlamaCpp(string name)
    {
        var directory = ShippedModels.Directory(name);
        using var model = PretrainedModel.Load(directory);
        var renderer = RendererFactory.For(model.Tokenizer);
        using var run = TrainingRun.CreateLora(model.Network, new LoraConfig { Rank = 8, Alpha = 16, Seed = 3 });
        // A few SFT steps on multiplication, a skill kept out of pretraining, so the adapter
        // visibly changes what the model says.
        var data = CorpusGenerator.Generate(seed: 21, heldOut: false, tasks: [ArithmeticTask.MultiplicationName]).Take(16)
            .Select(e => renderer.BuildSupervisedExample(e.Messages))
            .Select(e => Datum.ForNextToken(e.Tokens, e.Weights.Skip(1).ToArray())).ToList();
        var loss = LossSpec.Parse("cross_entropy");
        for (int step = 0; step < 8; step++)
        {
            run.ForwardBackward(data, loss);
            run.OptimStep(new AdamParams { LearningRate = 5e-3 });
        }
        var adapterDirectory = Path.Combine(TestModels.TempDirectory(), "adapter");
        PeftAdapter.Save(run.Adapter!, adapterDirectory, directory);
        var gguf = Path.Combine(TestModels.TempDirectory(), $"{name}-merged.gguf");
        GgufExporter.Export(directory, gguf, ScalarType.Float32, adapterDirectory);

        // The adapter must matter, or the comparison below would only repeat the base model's.
        var prompt = renderer.BuildGenerationPrompt(Prompts()[0].Prompt);
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var withAdapter = sampler.ComputeLogprobs([.. prompt, .. prompt], run.Adapter).Skip(1).Select(l => l!.Value).ToArray();
        var without = sampler.ComputeLogprobs([.. prompt, .. prompt]).Skip(1).Select(l => l!.Value).ToArray();
        Assert.True(withAdapter.Zip(without, (a, b) => Math.Abs(a - b)).Max() > 0.05, "the fine-tuned adapter barely changes the model");

        CompareWithLlamaCpp(model, run.Adapter, gguf, $"{name} + adapter");
    }

    // One held-out conversation per corpus task.
    static List<ChatExample> Prompts() =>
        CorpusGenerator.AllTasks.Select(task => CorpusGenerator.Generate(seed: 8, heldOut: true, tasks: [task]).First()).ToList();

    void CompareWithLlamaCpp(PretrainedModel model, LoraAdapter? adapter, string gguf, string label)
    {
        var renderer = RendererFactory.For(model.Tokenizer);
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var parameters = new ModelParams(gguf)
        {
            ContextSize = 1024, GpuLayerCount = 0, Threads = 2, BatchSize = 1024,
            TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        float worst = 0;
        int multiTokenAnswers = 0;
        foreach (var example in Prompts())
        {
            var prompt = renderer.BuildGenerationPrompt(example.Prompt).ToArray();
            var ours = sampler.Sample(new SampleRequest(prompt, 1, new SamplingParams
            {
                MaxTokens = MaxTokens, Temperature = 0, StopTokenIds = renderer.StopTokenIds.ToArray(),
            }) { Adapter = adapter }).Sequences[0];

            using var context = weights.CreateContext(parameters);
            // Every prompt position's next-token distribution against the learner's forward.
            var batch = new LLamaBatch();
            for (int i = 0; i < prompt.Length; i++) batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, logits: true);
            Assert.Equal(DecodeResult.Ok, context.Decode(batch));
            var engine = EngineLogprobs(model, adapter, prompt);
            for (int i = 0; i < prompt.Length; i++)
                worst = Math.Max(worst, LogitMath.MaxDifference(engine[i], LogitMath.LogSoftmax(context.NativeHandle.GetLogitsIth(i))));

            // Greedy continuation, token by token, against the sampler's (KV-cached decode) tokens
            // and the log-probabilities it reports for them.
            var theirs = new List<int>();
            var last = LogitMath.LogSoftmax(context.NativeHandle.GetLogitsIth(prompt.Length - 1));
            for (int step = 0; step < ours.Tokens.Count; step++)
            {
                int next = LogitMath.ArgMax(last);
                theirs.Add(next);
                if (next != ours.Tokens[step]) break;
                worst = Math.Max(worst, Math.Abs(last[next] - ours.Logprobs[step]));
                if (step == ours.Tokens.Count - 1) break;
                batch.Clear();
                batch.Add((LLamaToken)next, prompt.Length + step, LLamaSeqId.Zero, logits: true);
                Assert.Equal(DecodeResult.Ok, context.Decode(batch));
                last = LogitMath.LogSoftmax(context.NativeHandle.GetLogitsIth(0));
            }
            output.WriteLine($"{label} [{example.Task}] {ours.StopReason}: {model.Tokenizer.Decode(ours.Tokens.ToArray())}");
            Assert.Equal(ours.Tokens, theirs);
            if (ours.StopReason == StopReason.Stop) Assert.Contains(ours.Tokens[^1], renderer.StopTokenIds);
            if (ours.Tokens.Count > 1) multiTokenAnswers++;
        }
        output.WriteLine($"{label}: max |Δ logprob| = {worst:E3}");
        Assert.True(multiTokenAnswers > 0, "no prompt produced more than one token: the greedy comparison tested nothing");
        Assert.True(worst < LogprobTolerance, $"max |Δ logprob| = {worst:E3} exceeds {LogprobTolerance:E1}");
    }

    static float[][] EngineLogprobs(PretrainedModel model, LoraAdapter? adapter, int[] tokens)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Length]);
        var adapters = AdapterBatch.For([adapter]);
        var logprobs = model.Network.Logits(model.Network.Forward(input, adapters: adapters), adapters).log_softmax(-1)[0];
        return Enumerable.Range(0, tokens.Length).Select(i => logprobs[i].data<float>().ToArray()).ToArray();
    }
}
