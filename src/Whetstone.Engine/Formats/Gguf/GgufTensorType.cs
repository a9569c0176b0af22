using static TorchSharp.torch;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>The <c>ggml_type</c> values we read: the float types we also write, and the block
/// quantised types (ggml-common.h) that import dequantises to float32.</summary>
public enum GgufTensorType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    Q4_K = 12,
    Q6_K = 14,
    BF16 = 30,
}

public static class GgufTensorTypes
{
    public static GgufTensorType FromScalarType(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => GgufTensorType.F32,
        ScalarType.Float16 => GgufTensorType.F16,
        ScalarType.BFloat16 => GgufTensorType.BF16,
        _ => throw new ArgumentException($"dtype {dtype} cannot be stored in GGUF here (float32, float16, bfloat16)"),
    };

    public static ScalarType ToScalarType(this GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => ScalarType.Float32,
        GgufTensorType.F16 => ScalarType.Float16,
        GgufTensorType.BF16 => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an unquantised GGUF type"),
    };

    public static bool IsQuantized(this GgufTensorType type) => type is GgufTensorType.Q4_0 or GgufTensorType.Q8_0 or GgufTensorType.Q4_K or GgufTensorType.Q6_K;

    /// <summary>Elements per block and bytes per block: 1 element for the float types.</summary>
    public static (int Elements, int Bytes) Block(this GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => (1, 4),
        GgufTensorType.F16 or GgufTensorType.BF16 => (1, 2),
        GgufTensorType.Q8_0 => (32, 2 + 32),            // fp16 d, int8 qs[32]
        GgufTensorType.Q4_0 => (32, 2 + 16),            // fp16 d, nibbles qs[16]
        GgufTensorType.Q4_K => (256, 2 + 2 + 12 + 128), // fp16 d, fp16 dmin, 6-bit scales/mins [12], nibbles [128]
        GgufTensorType.Q6_K => (256, 128 + 64 + 16 + 2), // low nibbles [128], high 2 bits [64], int8 scales [16], fp16 d
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a GGUF type we read"),
    };

    /// <summary>Bytes a tensor of <paramref name="elements"/> occupies (whole blocks: the row length is checked to be a multiple).</summary>
    public static long ByteSize(this GgufTensorType type, long elements)
    {
        var (n, bytes) = type.Block();
        return elements / n * bytes;
    }

    public static int ElementSize(this GgufTensorType type) => type == GgufTensorType.F32 ? 4 : 2;

    /// <summary>Whether we can read the raw ggml_type number.</summary>
    public static bool IsSupported(uint raw) => Enum.IsDefined((GgufTensorType)raw);
}
