using System.Diagnostics;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>forward_backward throughput for LoRA and full fine-tuning, the memory each extra
/// adapter costs, and one mixed batch of many adapters against one adapter.</summary>
internal static class TrainingBenchmark
{
    const int Sequences = 8, Length = 256;

    public static void Run(string preset, IReadOnlyDictionary<ScalarType, double> peak)
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench", preset);
        if (!File.Exists(Path.Combine(directory, "config.json")))
            Whetstone.Engine.ModelMaker.RandomModelWriter.Write(directory, Whetstone.Engine.ModelMaker.RandomModelSpec.Preset(preset));
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var model = PretrainedModel.Load(directory, dtype);
            var network = model.Network;
            long baseParameters = network.parameters().Sum(p => p.numel());
            long matmulParameters = new InferenceBenchmark(model).MatmulParameters;
            var data = Data(model.Config.VocabSize, Sequences, Length, seed: 1);
            var loss = LossSpec.Parse("cross_entropy");

            using var lora = TrainingRun.CreateLora(network, new LoraConfig { Rank = 32 });
            double loraSeconds = Time(() => { lora.ForwardBackward(data, loss); lora.ZeroGradients(); });
            double tokens = Sequences * Length;
            // LoRA: forward 2·P per token, backward through activations 2·P (frozen weights get no gradient).
            double loraShare = 4.0 * matmulParameters * tokens / loraSeconds / peak[dtype];

            // Eight adapters, one sequence each, in one pass — against one adapter over the same rows.
            var adapters = Enumerable.Range(0, 8).Select(i => TrainingRun.CreateLora(network, new LoraConfig { Rank = 32, Seed = i })).ToList();
            var work = adapters.Select((r, i) => new LearnerWork(r.Adapter, [data[i]]) { Loss = loss }).ToList();
            double mixedSeconds = Time(() => { LearnerPass.Run(network, work, backward: true); adapters.ForEach(a => a.ZeroGradients()); });
            double mixedRatio = loraSeconds / mixedSeconds;

            long adapterParameters = lora.Adapter!.ParameterCount;
            // Per adapter: fp32 weights + gradients + two Adam moments.
            double adapterBytes = adapterParameters * 4.0 * 4;
            double baseBytes = baseParameters * (dtype == ScalarType.Float32 ? 4.0 : 2.0);

            string full = "";
            using (var own = PretrainedModel.Load(directory, dtype))
            using (var fullRun = TrainingRun.CreateFull(own.Network))
            {
                double fullSeconds = Time(() => { fullRun.ForwardBackward(data, loss); fullRun.ZeroGradients(); });
                double fullShare = 6.0 * matmulParameters * tokens / fullSeconds / peak[dtype];
                full = $"{tokens / fullSeconds:F0} | {100 * fullShare:F0}%";
            }
            Console.WriteLine($"| {preset} | {(dtype == ScalarType.Float32 ? "fp32" : "bf16")} | {tokens / loraSeconds:F0} | {100 * loraShare:F0}% | {full} | {adapterParameters / 1e6:F2}M, {100 * adapterBytes / baseBytes:F1}% of base | {mixedRatio:F2}x |");
            adapters.ForEach(a => a.Dispose());
        }
    }

    static List<Datum> Data(int vocab, int count, int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Datum.ForNextToken(Enumerable.Range(0, length + 1).Select(_ => random.Next(vocab)).ToArray())).ToList();
    }

    static double Time(Action action) => BestTime.Seconds(action, warmUp: true);
}
