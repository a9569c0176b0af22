using Whetstone.Engine.Formats;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>float8_e4m3fn with 128 × 128 weight_scale_inv blocks, on hand-made bits.</summary>
public class Fp8BlockDequantizerTests
{
    [Theory]
    [InlineData(0x00, 0.0)]
    [InlineData(0x38, 1.0)]            // exponent 7 (bias 7), mantissa 0
    [InlineData(0x3C, 1.5)]            // mantissa 4/8
    [InlineData(0x40, 2.0)]
    [InlineData(0x30, 0.5)]
    [InlineData(0x7E, 448.0)]          // 1.75 · 2⁸, the largest finite value
    [InlineData(0x01, 0.001953125)]    // subnormal 1/8 · 2⁻⁶ = 2⁻⁹
    [InlineData(0x08, 0.015625)]       // smallest normal 2⁻⁶
    [InlineData(0xB8, -1.0)]
    public void DecodesE4M3FnBits(int bits, double value) => Assert.Equal(value, Fp8BlockDequantizer.Decode((byte)bits));

    [Fact]
    public void AllOnesExponentAndMantissaIsNaNAndThereIsNoInfinity()
    {
        Assert.True(float.IsNaN(Fp8BlockDequantizer.Decode(0x7F)));
        Assert.True(float.IsNaN(Fp8BlockDequantizer.Decode(0xFF)));
        Assert.Equal(240.0, Fp8BlockDequantizer.Decode(0x77));   // exponent 15 is finite: 1.875 · 2⁷
    }

    [Fact]
    public void EachElementTakesItsBlocksScaleOnASmallBlockSize()
    {
        // 3 × 2 weight in 2 × 2 blocks: the second block row is partial (one row).
        var bits = tensor(new byte[] { 0x38, 0x40, 0x30, 0xB8, 0x3C, 0x00 }, [3, 2]);
        var scales = tensor(new float[] { 2f, 0.5f }, [2, 1]);
        var weight = Fp8BlockDequantizer.Dequantize(bits, scales, blockSize: 2);
        Assert.Equal([2f, 4f, 1f, -2f, 0.75f, 0f], weight.data<float>().ToArray());
    }

    [Fact]
    public void PartialEdgeBlocksOf128()
    {
        // [130, 129]: blocks [2, 2], the last row and column of blocks are 2 rows / 1 column wide.
        var raw = Enumerable.Repeat((byte)0x38, 130 * 129).ToArray();   // every element 1.0
        raw[129 * 129 + 128] = 0x40;                                     // the corner: 2.0
        var scales = tensor(new float[] { 1f, 2f, 3f, 4f }, [2, 2]);
        var weight = Fp8BlockDequantizer.Dequantize(tensor(raw, [130, 129]), scales);
        float At(int r, int c) => weight[r, c].item<float>();
        Assert.Equal(1f, At(0, 0));
        Assert.Equal(1f, At(127, 127));
        Assert.Equal(2f, At(0, 128));
        Assert.Equal(2f, At(127, 128));
        Assert.Equal(3f, At(128, 0));
        Assert.Equal(3f, At(129, 127));
        Assert.Equal(8f, At(129, 128));   // 2.0 × 4
        Assert.Throws<InvalidDataException>(() => Fp8BlockDequantizer.Dequantize(tensor(raw, [130, 129]), ones(1, 2)));
    }

    [Fact]
    public void CheckpointLoadingDequantizesWithTheScaleAndConsumesIt()
    {
        var directory = TestModels.TempDirectory();
        var bits = tensor(new byte[] { 0x38, 0x40, 0x30, 0xB8 }, [2, 2]);
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"),
            [new("w.weight", bits), new("w.weight_scale_inv", tensor(new float[] { 3f }, [1, 1])), new("v.weight", bits)],
            float8Names: new HashSet<string> { "w.weight", "v.weight" });
        using var tensors = new CheckpointTensors(directory);
        Assert.Equal([3f, 6f, 1.5f, -3f], tensors.Read("w.weight", [2, 2], ScalarType.Float32).data<float>().ToArray());
        Assert.DoesNotContain("w.weight_scale_inv", tensors.Unconsumed);
        var missing = Assert.Throws<InvalidDataException>(() => tensors.Read("v.weight", [2, 2], ScalarType.Float32));
        Assert.Contains("v.weight_scale_inv", missing.Message);
    }

    [Fact]
    public void Fp8InitModelLoadsCloseToItsFullPrecisionTwin()
    {
        var fp8 = MoeTestModels.Write("kimi-tiny", fp8: true);
        var full = MoeTestModels.Write("kimi-tiny");
        using (var file = new SafetensorsFile(Path.Combine(fp8, "model.safetensors")))
        {
            Assert.True(file.IsFloat8("model.layers.1.mlp.experts.3.down_proj.weight"));
            Assert.True(file.IsFloat8("model.layers.0.self_attn.kv_a_proj_with_mqa.weight"));
            Assert.False(file.IsFloat8("model.layers.1.mlp.gate.weight"));   // routers stay in full precision
        }
        using var quantized = TestModels.LoadNetwork(fp8);
        using var reference = TestModels.LoadNetwork(full);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = TestModels.RandomTokens(1, 10, reference.Config.VocabSize, seed: 3);
        var a = quantized.Logits(quantized.Forward(tokens)).log_softmax(-1);
        var b = reference.Logits(reference.Forward(tokens)).log_softmax(-1);
        double diff = (a - b).abs().max().item<float>();
        // e4m3 keeps 3 mantissa bits (≤ 6.25% per weight); the logprobs move, but little.
        Assert.True(diff > 0 && diff < 0.05, $"max |Δlogprob| fp8 vs fp32 = {diff:E3}");
    }
}
