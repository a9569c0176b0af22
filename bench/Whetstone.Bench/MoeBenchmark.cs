using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Planning;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>A K2-shaped MoE (MLA, one dense layer, 32 fine-grained experts, 4 per token + a shared
/// expert, grouped routing) against a dense Qwen3 of (nearly) the same active parameters per
/// token: prefill, decode and a LoRA training step (forward + backward), same run, same dtype.
/// MoE/MLA layers run plain torch ops, the dense model its decode kernels — the ratio measures
/// the whole engine as it is, not the architectures in the abstract.</summary>
internal static class MoeBenchmark
{
    public static void Run(ScalarType dtype)
    {
        var moe = RandomModelSpec.Preset("kimi-tiny") with
        {
            ModelTypeName = null, HiddenSize = 256, NumHiddenLayers = 4, NumAttentionHeads = 4, NumKeyValueHeads = 4, IntermediateSize = 768, VocabSize = 8192,
            Mla = new MlaShape { QLoraRank = 128, KvLoraRank = 64, QkNopeHeadDim = 32, QkRopeHeadDim = 16, VHeadDim = 32 },
            Moe = new MoeShape
            {
                Scoring = RouterScoring.Sigmoid, RoutedExperts = 32, ExpertsPerToken = 4, MoeIntermediateSize = 128, SharedExperts = 1,
                FirstKDenseReplace = 1, NGroup = 4, TopkGroup = 2, NormTopkProb = true, RoutedScalingFactor = 2.5,
            },
            RopeScaling = RopeScaling.None,
        };
        var moeDirectory = Write(moe);
        var moeConfig = ModelConfig.Load(moeDirectory);
        long active = ModelFootprint.Of(moeConfig).ActivePerToken;
        // The dense twin: Qwen3 of the same width and depth, MLP width chosen to match the active count.
        var dense = new RandomModelSpec { HiddenSize = 256, NumHiddenLayers = 4, NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 64, VocabSize = 8192, TieWordEmbeddings = false };
        int width = Enumerable.Range(1, 256).Select(i => i * 16)
            .OrderBy(i => Math.Abs(Footprint(dense with { IntermediateSize = i }) - active)).First();
        var denseDirectory = Write(dense with { IntermediateSize = width });

        Console.WriteLine($"MoE: {ModelFootprint.Of(moeConfig).Total / 1e6:F2}M total, {active / 1e6:F2}M active; dense twin: intermediate {width}, {Footprint(dense with { IntermediateSize = width }) / 1e6:F2}M; {dtype}");
        Console.WriteLine("| model | prefill tok/s (4×128) | decode tok/s (4 streams) | LoRA train tok/s (4×128, fwd+bwd) |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, directory) in new[] { ("dense", denseDirectory), ("MoE", moeDirectory), ("dense (again)", denseDirectory), ("MoE (again)", moeDirectory) })
        {
            using var model = PretrainedModel.Load(directory, dtype);
            var bench = new InferenceBenchmark(model);
            double prefill = bench.PrefillTokensPerSecond(4, 128, repeats: 2);
            double decode = bench.DecodeTokensPerSecond(4, 24);
            double train = TrainTokensPerSecond(model.Network);
            Console.WriteLine($"| {name} | {prefill:F0} | {decode:F1} | {train:F0} |");
        }
    }

    static long Footprint(RandomModelSpec spec) => ModelFootprint.Of(ModelConfig.Parse(Config(spec))).ActivePerToken;

    static System.Text.Json.Nodes.JsonObject Config(RandomModelSpec spec) => new ModelConfig
    {
        Family = spec.Family, VocabSize = spec.VocabSize ?? 8192, HiddenSize = spec.HiddenSize, IntermediateSize = spec.IntermediateSize,
        NumHiddenLayers = spec.NumHiddenLayers, NumAttentionHeads = spec.NumAttentionHeads, NumKeyValueHeads = spec.NumKeyValueHeads,
        HeadDim = spec.HeadDim ?? spec.HiddenSize / spec.NumAttentionHeads, MaxPositionEmbeddings = spec.MaxPositionEmbeddings, RmsNormEps = 1e-6,
        RopeTheta = spec.RopeTheta, TieWordEmbeddings = spec.TieWordEmbeddings, AttentionBias = false,
    }.ToJson();

    static string Write(RandomModelSpec spec)
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench-moe", Guid.NewGuid().ToString("N"));
        RandomModelWriter.Write(directory, spec);
        return directory;
    }

    // A LoRA step's model work: forward with an adapter on attention and MLPs/experts, backward of the summed logprobs.
    static double TrainTokensPerSecond(CausalLanguageModel network)
    {
        using var adapter = LoraAdapter.Create(network.LoraTargets(), new LoraConfig { Rank = 8, TrainUnembed = false }, ScalarType.Float32);
        var tokens = randint(300, 8000, [4, 129], dtype: ScalarType.Int64);
        void Step()
        {
            using var scope = NewDisposeScope();
            using var batch = new AdapterBatch([adapter, adapter, adapter, adapter]);
            var logits = network.Logits(network.Forward(tokens.narrow(1, 0, 128), adapters: batch));
            var loss = -logits.log_softmax(-1).gather(2, tokens.narrow(1, 1, 128).unsqueeze(-1)).sum();
            loss.backward();
        }
        Step();
        return 4 * 128 / BestTime.Seconds(Step, runs: 2);
    }
}
