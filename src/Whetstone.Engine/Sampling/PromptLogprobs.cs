using Whetstone.Engine.Runtime;
using static TorchSharp.torch;

namespace Whetstone.Engine.Sampling;

/// <summary>Turns the logits over a sequence into per-token logprobs: position t−1 predicts
/// token t, so the first token has none.</summary>
internal static class PromptLogprobs
{
    /// <summary>logits: [T, V] fp32 for the T tokens.</summary>
    public static (float?[] Logprobs, IReadOnlyList<TokenLogprob>?[]? Topk) From(Tensor logits, IReadOnlyList<int> tokens, int topk)
    {
        using var scope = NewDisposeScope();
        int length = tokens.Count;
        var result = new float?[length];
        IReadOnlyList<TokenLogprob>?[]? top = topk > 0 ? new IReadOnlyList<TokenLogprob>?[length] : null;
        if (length < 2) return (result, top);
        var logprobs = logits[TensorIndex.Slice(0, length - 1)].log_softmax(-1);          // [T-1, V]
        var targets = tensor(tokens.Skip(1).Select(t => (long)t).ToArray(), device: logits.device).unsqueeze(1);
        var picked = HostCopy.ToArray<float>(logprobs.gather(1, targets).squeeze(1).to(ScalarType.Float32));
        for (int t = 1; t < length; t++) result[t] = picked[t - 1];
        if (top is not null)
        {
            var (values, indices) = logprobs.topk(Math.Min(topk, (int)logprobs.shape[1]), dim: -1);
            var v = HostCopy.ToArray<float>(values.to(ScalarType.Float32));
            var ix = HostCopy.ToArray<long>(indices);
            int k = (int)values.shape[1];
            for (int t = 1; t < length; t++)
                top[t] = Enumerable.Range(0, k).Select(j => new TokenLogprob((int)ix[(t - 1) * k + j], v[(t - 1) * k + j])).ToArray();
        }
        return (result, top);
    }
}
