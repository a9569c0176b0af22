using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models;

public class KvCacheTests
{
    public static IEnumerable<object[]> Variants() =>
    [
        [ModelFamily.Llama, false, true],   // untied, llama3 rope scaling, GQA
        [ModelFamily.Llama, true, false],   // tied embeddings
        [ModelFamily.Qwen2, false, false],  // q/k/v biases
        [ModelFamily.Qwen3, true, false],   // q/k norm, head_dim independent of hidden/heads
    ];

    /// <summary>Each variant through every decode kernel width this CPU runs, and through torch.</summary>
    public static IEnumerable<object[]> IsasAndVariants() => DecodeIsas.Cross(Variants(), DecodeIsas.KernelsAndTorch);

    [Theory]
    [MemberData(nameof(IsasAndVariants))]
    public void KvCacheDecodeEqualsFullForward(string isa, ModelFamily family, bool tied, bool llama3Scaling)
    {
        using var width = DecodeIsas.Use(isa);
        var config = TestModels.Config(family, tied, llama3Scaling ? TestModels.Llama3Scaling : null);
        using var network = TestModels.Network(config);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        const int length = 12;
        var tokens = TestModels.RandomTokens(2, length, config.VocabSize, seed: 7);
        var full = network.Logits(network.Forward(tokens));                         // [2, 12, V]

        // Row 0 prefills 5 tokens, row 1 only 3 (right-padded with garbage): the pads' cache
        // entries must be masked, then overwritten by real tokens during decoding.
        int[] prefill = [5, 3];
        var prefillTokens = tokens[TensorIndex.Colon, TensorIndex.Slice(0, 5)].clone();
        prefillTokens[1, TensorIndex.Slice(3, 5)] = tensor(new long[] { 42, 43 });
        using var cache = network.CreateCache(2, length);
        var positions = arange(5, dtype: ScalarType.Int64).unsqueeze(0).expand(2, -1);
        var prefillLogits = network.Logits(network.Forward(prefillTokens, positions, cache));
        for (int row = 0; row < 2; row++)
            AssertClose(full[row, TensorIndex.Slice(0, prefill[row])], prefillLogits[row, TensorIndex.Slice(0, prefill[row])]);

        for (int step = 0; step < length - 5; step++)
        {
            var stepPositions = tensor(new long[] { prefill[0] + step, prefill[1] + step }).unsqueeze(1);
            var stepTokens = tokens.gather(1, stepPositions);
            var stepLogits = network.Logits(network.Forward(stepTokens, stepPositions, cache));   // [2, 1, V]
            for (int row = 0; row < 2; row++)
                AssertClose(full[row, prefill[row] + step], stepLogits[row, 0]);
        }
    }

    /// <summary>Sixteen rows decode through the kernel's 4×4 tiles (more than its streaming rows),
    /// each with its own prompt length, and must still match the full forward.</summary>
    [Theory]
    [MemberData(nameof(IsasAndVariants))]
    public void SixteenRowDecodeEqualsFullForward(string isa, ModelFamily family, bool tied, bool llama3Scaling)
    {
        using var width = DecodeIsas.Use(isa);
        var config = TestModels.Config(family, tied, llama3Scaling ? TestModels.Llama3Scaling : null, hidden: 64);
        using var network = TestModels.Network(config);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        const int rows = 16, length = 10, longest = 5;
        var tokens = TestModels.RandomTokens(rows, length, config.VocabSize, seed: 11);
        var full = network.Logits(network.Forward(tokens));
        var prefill = Enumerable.Range(0, rows).Select(row => 2 + row % 4).ToArray();   // 2..5 tokens; the rest of the 5 are pads
        using var cache = network.CreateCache(rows, length);
        network.Forward(tokens[TensorIndex.Colon, TensorIndex.Slice(0, longest)], arange(longest, dtype: ScalarType.Int64).unsqueeze(0).expand(rows, -1), cache);
        for (int step = 0; step < length - longest; step++)
        {
            var stepPositions = tensor(prefill.Select(p => (long)(p + step)).ToArray()).unsqueeze(1);
            var stepLogits = network.Logits(network.Forward(tokens.gather(1, stepPositions), stepPositions, cache));
            for (int row = 0; row < rows; row++)
                AssertClose(full[row, prefill[row] + step], stepLogits[row, 0]);
        }
    }

    static void AssertClose(Tensor expected, Tensor actual)
    {
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= 1e-4, $"max |Δlogit| = {difference:E3} exceeds 1e-4");
    }
}
