using LLama;
using LLama.Common;
using LLama.Native;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Formats;

/// <summary>Next-token log-probabilities at every prompt position, from llama.cpp (LLamaSharp's
/// CPU build, f32 KV cache, no flash attention) and from the engine, for side-by-side checks.</summary>
internal static class LlamaCppLogprobs
{
    public static (int[] Tokens, float[][] Logprobs) FromLlamaCpp(string gguf, string prompt)
    {
        var parameters = new ModelParams(gguf)
        {
            ContextSize = 128, GpuLayerCount = 0, Threads = 2, BatchSize = 128,
            TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var tokens = context.Tokenize(prompt, addBos: true, special: true).Select(t => (int)t).ToArray();
        var batch = new LLamaBatch();
        for (int i = 0; i < tokens.Length; i++) batch.Add((LLamaToken)tokens[i], i, LLamaSeqId.Zero, logits: true);
        Assert.Equal(DecodeResult.Ok, context.Decode(batch));
        return (tokens, Enumerable.Range(0, tokens.Length).Select(i => LogitMath.LogSoftmax(context.NativeHandle.GetLogitsIth(i))).ToArray());
    }

    public static float[][] FromEngine(PretrainedModel model, IReadOnlyList<int> tokens)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Count]);
        var logprobs = model.Network.Logits(model.Network.Forward(input)).log_softmax(-1)[0];   // [T, V]
        return Enumerable.Range(0, tokens.Count).Select(i => logprobs[i].data<float>().ToArray()).ToArray();
    }

    public static float MaxDifference(float[][] a, float[][] b) =>
        a.Zip(b).Max(pair => LogitMath.MaxDifference(pair.First, pair.Second));
}
