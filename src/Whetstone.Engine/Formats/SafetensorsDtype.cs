using static TorchSharp.torch;

namespace Whetstone.Engine.Formats;

/// <summary>The dtype strings of the safetensors header and their element sizes.</summary>
internal static class SafetensorsDtype
{
    /// <summary>float8_e4m3fn, as DeepSeek-V3 / Kimi K2 weights are released.</summary>
    public const string Float8E4M3 = "F8_E4M3";

    public static ScalarType ToScalarType(string dtype, string tensorName) => dtype switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "U8" => ScalarType.Byte,
        _ => throw new InvalidDataException($"tensor '{tensorName}': dtype '{dtype}' is not supported (F32, F16, BF16, F64, I64, I32, U8)"),
    };

    public static string FromScalarType(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Byte => "U8",
        _ => throw new ArgumentException($"dtype {type} cannot be written to safetensors here"),
    };

    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Byte => 1,
        _ => throw new ArgumentException($"dtype {type} has no known element size"),
    };
}
