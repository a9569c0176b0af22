namespace Whetstone.Protocol;

/// <summary>A flat tensor on the wire: {"data": [...], "dtype": "int64" | "float32", "shape": [n]}.</summary>
public sealed record TensorData(IReadOnlyList<double> Data, string Dtype, IReadOnlyList<long>? Shape = null)
{
    public static TensorData Int64(IEnumerable<int> values) => new(values.Select(v => (double)v).ToArray(), "int64");
    public static TensorData Float32(IEnumerable<float> values) => new(values.Select(v => (double)v).ToArray(), "float32");
}
