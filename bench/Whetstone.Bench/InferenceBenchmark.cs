using System.Diagnostics;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>Prefill and decode speed of the engine on one model and dtype, with the FLOP and
/// byte counts needed to compare against the hardware peaks.</summary>
internal sealed class InferenceBenchmark(PretrainedModel model)
{
    readonly Sampler _sampler = new(model.Network, model.Tokenizer);
    ModelConfig Config => model.Config;

    /// <summary>Weights touched per token: every matrix except the embedding table (a gather).
    /// With tied embeddings the table is read once more as the lm_head.</summary>
    public long MatmulParameters
    {
        get
        {
            long h = Config.HiddenSize, d = Config.HeadDim, i = Config.IntermediateSize;
            long perLayer = h * Config.NumAttentionHeads * d * 2 + h * Config.NumKeyValueHeads * d * 2 + 3 * h * i;
            return perLayer * Config.NumHiddenLayers + Config.VocabSize * h;
        }
    }

    /// <summary>Forward FLOPs for a batch of sequences of length T: 2 per weight per token, plus
    /// attention (QKᵀ and AV, causal so about half of T² is used).</summary>
    public double PrefillFlops(int batch, int length)
    {
        double weights = 2.0 * MatmulParameters * batch * length;
        double attention = 2.0 * 2 * Config.NumHiddenLayers * Config.NumAttentionHeads * Config.HeadDim * batch * (double)length * length / 2;
        return weights + attention;
    }

    /// <summary>Prefill tokens/s: batch × length tokens through the cached path, best of runs.</summary>
    public double PrefillTokensPerSecond(int batch, int length, int repeats = 3)
    {
        var prompt = Enumerable.Range(0, length).Select(t => 300 + t % 1000).ToArray();
        var requests = Enumerable.Range(0, batch).Select(_ => new SampleRequest(prompt, 1,
            new SamplingParams { MaxTokens = 1, Temperature = 0, IgnoreEos = true })).ToArray();
        _sampler.SampleBatch(requests);
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            _sampler.SampleBatch(requests);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return batch * (double)length / best;
    }

    /// <summary>Decode tokens/s over <paramref name="streams"/> sequences generating
    /// <paramref name="tokens"/> each after a short prompt; prefill time is measured separately
    /// and subtracted.</summary>
    public double DecodeTokensPerSecond(int streams, int tokens, int promptLength = 16)
    {
        var prompt = Enumerable.Range(0, promptLength).Select(t => 300 + t).ToArray();
        SampleRequest Request(int maxTokens) => new(prompt, streams,
            new SamplingParams { MaxTokens = maxTokens, Temperature = 0, IgnoreEos = true });
        _sampler.Sample(Request(4));
        double prefillOnly = Time(() => _sampler.Sample(Request(1)));
        double total = Time(() => _sampler.Sample(Request(tokens + 1)));
        return streams * (double)tokens / Math.Max(1e-9, total - prefillOnly);
    }

    static double Time(Action action) => BestTime.Seconds(action, warmUp: false);

    public long WeightBytesPerToken(ScalarType dtype) => MatmulParameters * (dtype == ScalarType.Float32 ? 4 : 2);
}
