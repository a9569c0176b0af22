using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models;

/// <summary>Decode steps run through <see cref="DecodeLayerKernel"/> (fp32 is covered exactly by
/// <see cref="KvCacheTests"/>, which decodes through it on AVX-512 machines). In bf16 the kernel
/// keeps activations in fp32 where the torch path rounds after every op, so it is compared with
/// an fp64 forward of the same bf16-rounded weights: it must be at least as close as torch's own
/// bf16 forward.</summary>
public class DecodeLayerKernelTests
{
    public static IEnumerable<object[]> VariantsAndRows() => DecodeIsas.Cross(
        KvCacheTests.Variants().SelectMany(variant => new[] { 3, 8 }.Select(rows => variant.Append(rows).ToArray())), DecodeIsas.Kernels);

    /// <summary>3 rows take the kernel's streaming products, 8 its 4×4 tiles.</summary>
    [Theory]
    [MemberData(nameof(VariantsAndRows))]
    public void Bf16DecodeIsAsCloseToExactAsTorchsBf16Forward(string isa, ModelFamily family, bool tied, bool llama3Scaling, int rows)
    {
        using var width = DecodeIsas.Use(isa);
        var config = TestModels.Config(family, tied, llama3Scaling ? TestModels.Llama3Scaling : null, hidden: 64, headDim: family == ModelFamily.Qwen3 ? 40 : null);
        var directory = TestModels.WriteCheckpoint(config, seed: 3, dtype: ScalarType.BFloat16);
        using var bf16 = TestModels.LoadNetwork(directory, ScalarType.BFloat16);
        using var exact = TestModels.LoadNetwork(directory, ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        const int length = 10, prefill = 4;
        var tokens = TestModels.RandomTokens(rows, length, config.VocabSize, seed: 9);
        var reference = exact.Logits(exact.Forward(tokens));                              // [rows, T, V] fp64
        var torchError = (bf16.Logits(bf16.Forward(tokens)).to(ScalarType.Float64) - reference)[TensorIndex.Colon, TensorIndex.Slice(prefill)].abs().max().item<double>();

        using var cache = bf16.CreateCache(rows, length);
        var positions = arange(prefill, dtype: ScalarType.Int64).unsqueeze(0).expand(rows, -1);
        bf16.Forward(tokens[TensorIndex.Colon, TensorIndex.Slice(0, prefill)], positions, cache);
        double kernelError = 0;
        for (int step = prefill; step < length; step++)
        {
            var stepTokens = tokens[TensorIndex.Colon, TensorIndex.Slice(step, step + 1)];
            var logits = bf16.Logits(bf16.Forward(stepTokens, full([rows, 1], step, ScalarType.Int64), cache));   // [rows, 1, V]
            kernelError = Math.Max(kernelError, (logits[TensorIndex.Colon, 0].to(ScalarType.Float64) - reference[TensorIndex.Colon, step]).abs().max().item<double>());
        }
        Assert.True(kernelError <= torchError * 1.25 + 1e-3, $"decode |Δ| = {kernelError:E3} vs torch bf16 forward's {torchError:E3}");
        Assert.True(kernelError < 0.1, $"decode |Δ| = {kernelError:E3}");
    }
}
