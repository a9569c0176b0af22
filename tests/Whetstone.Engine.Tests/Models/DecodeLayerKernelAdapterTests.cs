using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Tests.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models;

/// <summary>Decode steps whose rows carry different LoRA adapters (some none) go through
/// <see cref="DecodeLayerKernel"/> — the base projections through the kernel, each row's low-rank
/// update added on raw memory — and must give the logits the torch path gives (kernels off). In
/// bf16, where the kernel keeps activations in fp32 and torch rounds after every op, both are
/// compared with an fp64 decode of the same rounded weights and factors, and the kernel must be
/// at least as close as torch.</summary>
public class DecodeLayerKernelAdapterTests
{
    // -1 = base model; 0 and 1 = two adapters. 3 rows take the streaming products, 6 the tiles;
    // the layouts mix contiguous and scattered rows. Ranks 4 and 16 take the vector paths of the
    // B product (at 128 bits, or at the full width where the rank is whole vectors), 6 the scalar one.
    static readonly object[][] Layouts =
    [
        [new[] { 0, -1, 1 }, ScalarType.Float32, 4],
        [new[] { 0, 1, -1, 0, 1, -1 }, ScalarType.Float32, 16],
        [new[] { 1, 0, 1 }, ScalarType.Float32, 6],
        [new[] { 0, 1, -1, 0, 1, -1 }, ScalarType.BFloat16, 4],
        [new[] { -1, 1, 1 }, ScalarType.BFloat16, 16],
    ];

    public static IEnumerable<object[]> IsasAndLayouts() => DecodeIsas.Cross(Layouts, DecodeIsas.Kernels);

    [Theory]
    [MemberData(nameof(IsasAndLayouts))]
    public void MixedAdapterDecodeEqualsTorchPath(string isa, int[] layout, ScalarType dtype, int rank)
    {
        var config = TestModels.Config(ModelFamily.Qwen2, hidden: 64);   // q/k/v biases: the update adds to a biased result
        var directory = TestModels.WriteCheckpoint(config, seed: 3, dtype: dtype);
        using var network = TestModels.LoadNetwork(directory, dtype);
        var lora = new LoraConfig { Rank = rank };
        // Factors in the network's dtype: fp32 ones in the fp32 runs, bf16 ones in the bf16 runs.
        var adapters = Enumerable.Range(0, 2).Select(i => TrainingTestData.RandomAdapter(network, lora, seed: 70 + i)).ToArray();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int rows = layout.Length;
        const int length = 9, prefill = 4;
        var tokens = TestModels.RandomTokens(rows, length, config.VocabSize, seed: 5);

        Tensor Decode(CausalLanguageModel model, LoraAdapter[] rowAdapters, DecodeIsa at)
        {
            using var width = DecodeInstructionSet.Use(at);
            using var batch = new AdapterBatch(layout.Select(i => i < 0 ? null : rowAdapters[i]).ToArray());
            using var cache = model.CreateCache(rows, length);
            model.Forward(tokens[TensorIndex.Colon, TensorIndex.Slice(0, prefill)], arange(prefill, dtype: ScalarType.Int64).unsqueeze(0).expand(rows, -1), cache, batch);
            var steps = new List<Tensor>();
            for (int step = prefill; step < length; step++)
            {
                var hidden = model.Forward(tokens[TensorIndex.Colon, TensorIndex.Slice(step, step + 1)], full([rows, 1], step, ScalarType.Int64), cache, batch);
                steps.Add(model.Logits(hidden, batch).to(ScalarType.Float64));                       // [rows, 1, V]
            }
            return cat(steps, 1);                                                                      // [rows, steps, V]
        }

        using var kernelWidth = DecodeIsas.Use(isa);
        var kernel = Decode(network, adapters, DecodeInstructionSet.Current);
        var torchPath = Decode(network, adapters, DecodeIsa.Off);
        double tolerance;
        if (dtype == ScalarType.Float32)
        {
            // Summation order only.
            tolerance = 1e-4;
            double difference = (kernel - torchPath).abs().max().item<double>();
            Assert.True(difference <= tolerance, $"max |Δlogit| kernel vs torch = {difference:E3}, tolerance {tolerance:E1}");
        }
        else
        {
            using var exact = TestModels.LoadNetwork(directory, ScalarType.Float64);
            var exactAdapters = adapters.Select(adapter => LoraAdapter.FromTensors(exact.LoraTargets().Where(t => lora.Targets(t.Group)), lora, target =>
                adapter.TryGet(target.Name, out var w) ? (w.A.to(ScalarType.Float64), w.B.to(ScalarType.Float64)) : null)).ToArray();
            var reference = Decode(exact, exactAdapters, DecodeIsa.Off);
            double kernelError = (kernel - reference).abs().max().item<double>(), torchError = (torchPath - reference).abs().max().item<double>();
            Assert.True(kernelError <= torchError * 1.25 + 1e-3, $"bf16 decode |Δ| from fp64 = {kernelError:E3}, torch's bf16 decode {torchError:E3}");
            tolerance = Math.Max(kernelError, torchError);
            foreach (var adapter in exactAdapters) adapter.Dispose();
        }

        // The check has teeth: each adapter moves its rows' logits far past the tolerance.
        for (int row = 0; row < rows; row++)
        {
            double moved = (kernel[row] - BaseLogits(row)).abs().max().item<double>();
            if (layout[row] >= 0) Assert.True(moved > 10 * tolerance, $"row {row}: the adapter moved the logits only {moved:E3}");
            else if (dtype == ScalarType.Float32) Assert.True(moved <= tolerance, $"base row {row} moved {moved:E3}");
        }

        Tensor BaseLogits(int row)
        {
            using var width = DecodeInstructionSet.Use(DecodeIsa.Off);
            var full = network.Logits(network.Forward(tokens[TensorIndex.Slice(row, row + 1)]));       // [1, T, V]
            return full[0, TensorIndex.Slice(prefill, length)].to(ScalarType.Float64);
        }
        foreach (var adapter in adapters) adapter.Dispose();
    }
}
