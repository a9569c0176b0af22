using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Tests.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Lora;

/// <summary>Every way <see cref="AdapterBatch"/> lays out rows — one adapter for all, stacked
/// equal groups, contiguous slices with base rows between, scattered rows — gives each row its
/// own adapter's logits, as a pass with that adapter alone does.</summary>
public class AdapterBatchTests
{
    [Theory]
    [InlineData(new[] { 0, 0, 0 }, false, false)]              // one adapter, whole batch
    [InlineData(new[] { 0, 0, 1, 1, 2, 2 }, false, false)]     // equal contiguous groups
    [InlineData(new[] { 0, 0, 1, 1, 2, 2 }, true, false)]      // the same in bf16: stacked factors
    [InlineData(new[] { 0, -1, 1, 1, -1 }, false, false)]      // contiguous slices and base rows
    [InlineData(new[] { 0, 1, 0, -1, 1 }, false, false)]       // scattered rows
    [InlineData(new[] { 0, 1, 0, -1, 1 }, true, false)]
    // Inference on few rows: every adapter's factors side by side with a row mask.
    [InlineData(new[] { 0, 0, 1, 1, 2, 2 }, false, true)]
    [InlineData(new[] { 0, -1, 1, 1, -1 }, false, true)]
    [InlineData(new[] { 0, 1, 0, -1, 1 }, false, true)]
    [InlineData(new[] { 2, 1, 0, -1, 1 }, true, true)]
    public void EachRowGetsItsOwnAdaptersLogits(int[] layout, bool bf16, bool inference)
    {
        using var gradients = inference ? no_grad() : enable_grad();
        var config = TestModels.Config(ModelFamily.Qwen3, vocab: 43);
        using var network = TestModels.Network(config, dtype: bf16 ? ScalarType.BFloat16 : ScalarType.Float32);
        // bf16 sums in a different order per layout; fp32 must agree to rounding.
        double tolerance = bf16 ? 0.05 : 1e-5;
        var lora = new LoraConfig { Rank = 4 };
        var adapters = Enumerable.Range(0, 3).Select(i => TrainingTestData.RandomAdapter(network, lora, seed: 50 + i)).ToArray();
        using var scope = NewDisposeScope();
        var tokens = TestModels.RandomTokens(layout.Length, 6, config.VocabSize, seed: 3);
        var rowAdapters = layout.Select(i => i < 0 ? null : adapters[i]).ToArray();
        var batch = AdapterBatch.For(rowAdapters);
        var together = network.Logits(network.Forward(tokens, adapters: batch), batch);
        var baseline = network.Logits(network.Forward(tokens));
        for (int row = 0; row < layout.Length; row++)
        {
            var single = AdapterBatch.For([rowAdapters[row]]);
            var rowTokens = tokens[TensorIndex.Slice(row, row + 1)];
            var alone = network.Logits(network.Forward(rowTokens, adapters: single), single)[0];
            float difference = (together[row] - alone).abs().max().item<float>();
            Assert.True(difference < tolerance, $"row {row}: max |Δlogit| = {difference:E2}");
            // The check has teeth: an adapter moves the logits far more than the tolerance.
            if (layout[row] >= 0) Assert.True((together[row] - baseline[row]).abs().max().item<float>() > 4 * tolerance);
        }
        foreach (var a in adapters) a.Dispose();
    }
}
