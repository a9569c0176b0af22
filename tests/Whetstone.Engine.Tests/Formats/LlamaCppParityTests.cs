using LLama;
using LLama.Common;
using LLama.Native;
using Whetstone.Engine.Formats.Gguf;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Formats;

/// <summary>Exported GGUF files run in llama.cpp (LLamaSharp's CPU build) exactly as the engine
/// runs the Hugging Face original: same prompt tokens, same greedy continuation, next-token
/// log-probabilities within <see cref="LogprobTolerance"/> of the weights' type.</summary>
public class LlamaCppParityTests(ITestOutputHelper output)
{
    // Measured max |Δ logprob| with an f32 KV cache and flash attention off: f32 weights ≤ 4.8e-7
    // (summation order only); f16 weights ≤ 2.4e-4 and bf16 ≤ 1.7e-3, because ggml rounds the
    // activations to the weights' type before each matmul. llama.cpp's defaults (f16 KV cache,
    // flash attention rounding queries to f16) give ≤ 4.7e-4 on f32 weights.
    static float LogprobTolerance(ScalarType weights) => weights switch
    {
        ScalarType.Float32 => 1e-5f,
        ScalarType.Float16 => 1e-3f,
        _ => 5e-3f,
    };

    static readonly string[] Corpus =
    [
        "Hello world! The quick brown fox jumps over the lazy dog.",
        "Numbers 1234567 and 3.14159, tabs\tand\nnew lines.",
        "The lazy dog sleeps; the quick fox runs. Hello again, world!",
    ];

    [Theory]
    [InlineData(ModelFamily.Llama, false, false, "f32")]
    [InlineData(ModelFamily.Llama, true, true, "f32")]
    [InlineData(ModelFamily.Qwen2, false, false, "f32")]
    [InlineData(ModelFamily.Qwen3, true, false, "f32")]
    [InlineData(ModelFamily.Llama, false, true, "f16")]
    [InlineData(ModelFamily.Qwen3, false, false, "f16")]
    [InlineData(ModelFamily.Qwen2, true, false, "bf16")]
    [InlineData(ModelFamily.Llama, false, false, "bf16")]
    public void LlamaCppMatchesTheEngine(ModelFamily family, bool tied, bool llama3Rope, string weightType)
    {
        var style = family == ModelFamily.Llama ? ByteLevelTokenizerStyle.Llama3 : ByteLevelTokenizerStyle.ChatMl;
        var directory = Path.Combine(TestModels.TempDirectory(), "base");
        RandomModelWriter.Write(directory, new RandomModelSpec
        {
            Family = family, HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            HeadDim = family == ModelFamily.Qwen3 ? 24 : null, IntermediateSize = 128, TieWordEmbeddings = tied, Seed = 11,
            RopeScaling = llama3Rope ? new RopeScaling { Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 16 } : RopeScaling.None,
            TokenizerStyle = style, Merges = ByteLevelBpeTrainer.LearnMerges(Corpus.Concat(Corpus), 60, style),
        });
        var gguf = Path.Combine(TestModels.TempDirectory(), "model.gguf");
        var dtype = weightType switch { "f16" => ScalarType.Float16, "bf16" => ScalarType.BFloat16, _ => ScalarType.Float32 };
        GgufExporter.Export(directory, gguf, dtype);
        // Half-precision files are compared with the engine running their own rounded weights
        // (imported back, computed in fp32), so only llama.cpp's arithmetic differs.
        if (dtype != ScalarType.Float32)
        {
            directory = Path.Combine(TestModels.TempDirectory(), "imported");
            GgufImporter.Import(gguf, directory);
        }

        using var engine = PretrainedModel.Load(directory);
        var parameters = new ModelParams(gguf) { ContextSize = 128, GpuLayerCount = 0, Threads = 2, BatchSize = 128,
            // llama.cpp keeps K and V in f16 by default and its CPU flash attention rounds queries to
            // f16; with both off the comparison is one of arithmetic order only.
            TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);

        string prompt = Corpus[0];
        var expectedTokens = engine.Tokenizer.Encode(prompt, addSpecialTokens: true).ToArray();
        var llamaTokens = context.Tokenize(prompt, addBos: true, special: true).Select(t => (int)t).ToArray();
        Assert.Equal(expectedTokens, llamaTokens);

        // Every prompt position's next-token distribution, then a greedy continuation.
        var sequence = expectedTokens.ToList();
        float worst = 0;
        var batch = new LLamaBatch();
        for (int i = 0; i < sequence.Count; i++) batch.Add((LLamaToken)sequence[i], i, LLamaSeqId.Zero, logits: true);
        Assert.Equal(DecodeResult.Ok, context.Decode(batch));
        var engineLogprobs = EngineLogprobs(engine, sequence);   // [T, V]
        for (int i = 0; i < sequence.Count; i++)
            worst = Math.Max(worst, LogitMath.MaxDifference(engineLogprobs[i], LogitMath.LogSoftmax(context.NativeHandle.GetLogitsIth(i))));

        var greedyEngine = new List<int>();
        var greedyLlama = new List<int>();
        int position = sequence.Count;
        var last = LogitMath.LogSoftmax(context.NativeHandle.GetLogitsIth(sequence.Count - 1));
        var engineSequence = sequence.ToList();
        for (int step = 0; step < 16; step++)
        {
            int llamaNext = LogitMath.ArgMax(last);
            var engineNext = EngineLogprobs(engine, engineSequence);
            int ours = LogitMath.ArgMax(engineNext[^1]);
            greedyEngine.Add(ours);
            greedyLlama.Add(llamaNext);
            engineSequence.Add(ours);
            batch.Clear();
            batch.Add((LLamaToken)llamaNext, position++, LLamaSeqId.Zero, logits: true);
            Assert.Equal(DecodeResult.Ok, context.Decode(batch));
            last = LogitMath.LogSoftmax(context.NativeHandle.GetLogitsIth(0));
            if (ours == llamaNext)
                worst = Math.Max(worst, LogitMath.MaxDifference(EngineLogprobs(engine, engineSequence)[^1], last));
        }
        output.WriteLine($"{family} {weightType} tied={tied} llama3={llama3Rope}: max |Δ logprob| = {worst:E3}; greedy {string.Join(",", greedyEngine)}");
        Assert.Equal(greedyEngine, greedyLlama);
        float tolerance = LogprobTolerance(dtype);
        Assert.True(worst < tolerance, $"max |Δ logprob| = {worst:E3} exceeds {tolerance:E1}");
    }

    static float[][] EngineLogprobs(PretrainedModel model, List<int> tokens)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Count]);
        var logprobs = model.Network.Logits(model.Network.Forward(input)).log_softmax(-1)[0];   // [T, V]
        return Enumerable.Range(0, tokens.Count).Select(i => logprobs[i].data<float>().ToArray()).ToArray();
    }
}
