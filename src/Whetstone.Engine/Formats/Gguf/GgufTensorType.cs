using static TorchSharp.torch;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>The unquantised <c>ggml_type</c> values we write and read. Quantised types
/// (Q4_0, Q8_0, K-quants…) are refused on import: their blocks need ggml's dequantisers.</summary>
public enum GgufTensorType : uint
{
    F32 = 0,
    F16 = 1,
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

    public static int ElementSize(this GgufTensorType type) => type == GgufTensorType.F32 ? 4 : 2;

    /// <summary>The ggml_type number as the error names it, for files holding quantised tensors.</summary>
    public static bool IsSupported(uint raw) => raw is 0 or 1 or 30;
}
