namespace Whetstone.Engine.Formats.Gguf;

/// <summary>The mapping between CLR values held in <see cref="GgufMetadata"/> and GGUF type tags.</summary>
internal static class GgufValueTypes
{
    public static GgufValueType Of(object value) => value switch
    {
        byte => GgufValueType.UInt8,
        sbyte => GgufValueType.Int8,
        ushort => GgufValueType.UInt16,
        short => GgufValueType.Int16,
        uint => GgufValueType.UInt32,
        int => GgufValueType.Int32,
        float => GgufValueType.Float32,
        bool => GgufValueType.Bool,
        string => GgufValueType.String,
        System.Array => GgufValueType.Array,
        ulong => GgufValueType.UInt64,
        long => GgufValueType.Int64,
        double => GgufValueType.Float64,
        _ => throw new ArgumentException($"{value.GetType().Name} is not a GGUF metadata value type"),
    };

    public static GgufValueType ElementOf(System.Array array) => array switch
    {
        string[] => GgufValueType.String,
        int[] => GgufValueType.Int32,
        uint[] => GgufValueType.UInt32,
        long[] => GgufValueType.Int64,
        float[] => GgufValueType.Float32,
        double[] => GgufValueType.Float64,
        bool[] => GgufValueType.Bool,
        byte[] => GgufValueType.UInt8,
        _ => throw new ArgumentException($"{array.GetType().Name} is not a GGUF array type"),
    };
}
