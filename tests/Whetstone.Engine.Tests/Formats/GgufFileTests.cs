using Whetstone.Engine.Formats.Gguf;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Formats;

public class GgufFileTests
{
    [Fact]
    public void WrittenFileReadsBackWithTypedMetadataAndAlignedTensors()
    {
        var metadata = new GgufMetadata();
        metadata.Set("general.architecture", "llama");
        metadata.Set("general.alignment", 32u);
        metadata.Set("a.uint32", 7u);
        metadata.Set("a.int32", -3);
        metadata.Set("a.float32", 0.5f);
        metadata.Set("a.bool", true);
        metadata.Set("a.uint64", 1UL << 40);
        metadata.Set("a.strings", new[] { "Ġhello", "<|im_end|>", "" });
        metadata.Set("a.ints", new[] { 1, 3, 4 });
        metadata.Set("a.floats", new[] { 1.5f, -2f });

        using var scope = NewDisposeScope();
        var f32 = randn(3, 5);
        var f16 = randn(7).to(ScalarType.Float16);
        var bf16 = randn(2, 3, 4).to(ScalarType.BFloat16);
        var path = Path.Combine(TestModels.TempDirectory(), "t.gguf");
        GgufWriter.Write(path, metadata,
        [
            new GgufTensor("f32", f32, GgufTensorType.F32),
            new GgufTensor("f16", f16, GgufTensorType.F16),
            new GgufTensor("bf16", bf16, GgufTensorType.BF16),
        ]);

        var bytes = File.ReadAllBytes(path);
        Assert.Equal("GGUF"u8.ToArray(), bytes[..4]);
        Assert.Equal(3u, BitConverter.ToUInt32(bytes, 4));
        Assert.Equal(0, bytes.Length % 32);

        var file = new GgufFile(path);
        Assert.Equal(3u, file.Version);
        Assert.Equal("llama", file.Metadata.String("general.architecture"));
        Assert.Equal(7L, file.Metadata.Integer("a.uint32"));
        Assert.Equal(-3L, file.Metadata.Integer("a.int32"));
        Assert.Equal(0.5, file.Metadata.Number("a.float32"));
        Assert.True(file.Metadata.OptionalBool("a.bool"));
        Assert.Equal(1L << 40, file.Metadata.Integer("a.uint64"));
        Assert.Equal(["Ġhello", "<|im_end|>", ""], file.Metadata.Array<string>("a.strings"));
        Assert.Equal([1, 3, 4], file.Metadata.Array<int>("a.ints"));
        Assert.Equal([1.5f, -2f], file.Metadata.Array<float>("a.floats"));

        Assert.Equal(["f32", "f16", "bf16"], file.TensorNames);
        Assert.Equal([2L, 3, 4], file.Shape("bf16"));
        Assert.Equal(GgufTensorType.F16, file.Type("f16"));
        Assert.True(file.Read("f32").equal(f32).all().item<bool>());
        Assert.True(file.Read("f16").equal(f16).all().item<bool>());
        Assert.True(file.Read("bf16").equal(bf16).all().item<bool>());
    }

    [Fact]
    public void DimensionsAreStoredFastestFirst()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(TestModels.TempDirectory(), "dims.gguf");
        GgufWriter.Write(path, new GgufMetadata(), [new GgufTensor("w", zeros(3, 5), GgufTensorType.F32)]);
        var bytes = File.ReadAllBytes(path);
        // header 24 bytes, then name (8 + 1), n_dims (4), dims: ne0 = columns = 5, ne1 = rows = 3.
        int dims = 24 + 9 + 4;
        Assert.Equal(5UL, BitConverter.ToUInt64(bytes, dims));
        Assert.Equal(3UL, BitConverter.ToUInt64(bytes, dims + 8));
    }

    [Fact]
    public void LlamaHeadPermutationInterleavesHalvesAndInverts()
    {
        using var scope = NewDisposeScope();
        // Two heads of dim 4: rows [h0: a0 a1 b0 b1, h1: ...] become [a0 b0 a1 b1, ...].
        var rows = arange(8).reshape(8, 1).to(ScalarType.Float32);
        var gguf = LlamaHeadPermutation.ToGguf(rows, heads: 2);
        Assert.Equal([0f, 2, 1, 3, 4, 6, 5, 7], gguf.reshape(8).data<float>().ToArray());
        var weight = randn(24, 5);
        Assert.True(LlamaHeadPermutation.ToHuggingFace(LlamaHeadPermutation.ToGguf(weight, 3), 3).equal(weight).all().item<bool>());
    }

    [Fact]
    public void UndecodedQuantisedTensorsAreRefusedByName()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(TestModels.TempDirectory(), "q.gguf");
        GgufWriter.Write(path, new GgufMetadata(), [new GgufTensor("w", zeros(2, 32), GgufTensorType.F32)]);
        var bytes = File.ReadAllBytes(path);
        int type = 24 + 9 + 4 + 16;
        BitConverter.GetBytes(6u).CopyTo(bytes, type);   // Q5_0: a quantised type we do not decode
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<NotSupportedException>(() => new GgufFile(path).Read("w"));
        Assert.Contains("'w'", error.Message);
        Assert.Contains("ggml type 6", error.Message);
    }
}
