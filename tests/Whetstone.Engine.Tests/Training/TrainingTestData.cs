using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Training;

internal static class TrainingTestData
{
    /// <summary>Random data with every loss input filled; sampler logprobs sit at a fixed offset
    /// from <paramref name="learnerLogprobs"/> when given (to place PPO/CISPO ratios where wanted).</summary>
    public static List<Datum> Random(int vocab, int[] lengths, long seed, IReadOnlyList<float[]>? learnerLogprobs = null, float offset = 0.05f)
    {
        var random = new Random((int)seed);
        var data = new List<Datum>();
        for (int i = 0; i < lengths.Length; i++)
        {
            int n = lengths[i];
            data.Add(new Datum
            {
                InputTokens = Enumerable.Range(0, n).Select(_ => random.Next(vocab)).ToArray(),
                TargetTokens = Enumerable.Range(0, n).Select(_ => random.Next(vocab)).ToArray(),
                Weights = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray(),
                Advantages = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
                Logprobs = Enumerable.Range(0, n).Select(t => learnerLogprobs is null
                    ? (float)(-5 + random.NextDouble())
                    : learnerLogprobs[i][t] + (t % 2 == 0 ? offset : -offset)).ToArray(),
            });
        }
        return data;
    }

    /// <summary>An adapter with random A and B (a fresh one has B = 0, where gradients of A vanish).</summary>
    public static LoraAdapter RandomAdapter(CausalLanguageModel network, LoraConfig config, long seed)
    {
        var generator = new Generator((ulong)seed);
        return LoraAdapter.FromTensors(network.LoraTargets().Where(t => config.Targets(t.Group)), config, target =>
            (randn([config.Rank, target.InFeatures], generator: generator, dtype: network.Dtype) * 0.1,
             randn([target.OutFeatures, config.Rank], generator: generator, dtype: network.Dtype) * 0.1));
    }
}
