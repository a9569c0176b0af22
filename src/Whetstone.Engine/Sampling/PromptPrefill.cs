using TorchSharp;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Sampling;

/// <summary>The start every sampling path shares: all prompts of a batch prefilled together
/// (right-padded: pads sit after every real query, so the causal mask hides them and their cache
/// entries are overwritten later), each prompt once however many samples it asks for, and one
/// sequence state per sample drawing from that sample's own seeded stream.</summary>
internal static class PromptPrefill
{
    /// <summary>The prompts' KV cache (the caller disposes it; rows in request order, room for
    /// each request's prompt plus max_tokens), the final hidden states [P, T, h] (for prompt
    /// logprobs) and the logits at each prompt's last token [P, V], in the caller's dispose scope.</summary>
    public static (KvCache Cache, Tensor Hidden, Tensor LastLogits) Run(CausalLanguageModel network, IReadOnlyList<SampleRequest> requests, ExpertRouting? routing = null)
    {
        int promptCount = requests.Count;
        int longest = requests.Max(r => r.Prompt.Count);
        int capacity = requests.Max(r => r.Prompt.Count + r.Params.MaxTokens);
        var padded = new long[promptCount * longest];
        for (int p = 0; p < promptCount; p++)
            for (int t = 0; t < requests[p].Prompt.Count; t++) padded[p * longest + t] = requests[p].Prompt[t];
        var tokens = tensor(padded, [promptCount, longest], device: network.Device);
        using var length = longest.ToScalar();
        var positions = arange(length, dtype: ScalarType.Int64, device: network.Device).unsqueeze(0).expand(promptCount, -1);
        var cache = network.CreateCache(promptCount, capacity);
        var adapters = AdapterBatch.For(requests.Select(r => r.Adapter).ToArray());
        bool images = requests.Any(r => r.Images.Count > 0);
        var imagesPerRow = images ? requests.Select(r => r.Images).ToArray() : null;
        var rope = images ? Models.Vision.VisionLanguageInputs.RopePositions(imagesPerRow!, longest, 0, network.Config.Vision!, network.Device) : null;   // [3, P, T]
        var hidden = network.Forward(tokens, positions, cache, adapters, imagesPerRow, rope, maxPosition: longest - 1, routing: routing);   // [P, T, h]
        var lastIndex = tensor(requests.Select(r => (long)r.Prompt.Count - 1).ToArray(), device: network.Device);
        using var rows = promptCount.ToScalar();
        var lastHidden = hidden[arange(rows, dtype: ScalarType.Int64, device: network.Device), lastIndex];   // [P, h]
        return (cache, hidden, network.Logits(lastHidden, adapters));                        // [P, V]
    }

    /// <summary>One state per sample, in request then sample order.</summary>
    public static List<(int Request, int Sample, SequenceState State)> Sequences(CausalLanguageModel network, HuggingFaceTokenizer tokenizer, IReadOnlyList<SampleRequest> requests)
    {
        var sequences = new List<(int, int, SequenceState)>();
        for (int p = 0; p < requests.Count; p++)
        {
            var r = requests[p];
            int seed = r.Params.Seed ?? Random.Shared.Next();
            for (int s = 0; s < r.NumSamples; s++)
                sequences.Add((p, s, new SequenceState(p, r.Prompt.Count, r.Params, SampleSeed(seed, s),
                    tokenizer.CreateStreamingDecoder(), r.Params.IgnoreEos ? [] : tokenizer.EosTokenIds)
                {
                    RopeDelta = r.Images.Count == 0 ? 0
                        : Models.Vision.MropePositions.For(r.Prompt.Count, r.Images, network.Config.Vision!.SpatialMergeSize).Delta,
                }));
        }
        return sequences;
    }

    // Sample i of a request draws from its own stream, derived from the request's seed with a
    // fixed mix (HashCode.Combine is randomised per process, so it cannot be used here).
    static int SampleSeed(int seed, int sample) => unchecked(seed * 1_000_003 + sample * 7_919);
}
