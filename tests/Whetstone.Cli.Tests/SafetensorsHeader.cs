using System.Buffers.Binary;
using System.Text.Json;

namespace Whetstone.Cli.Tests;

/// <summary>The tensor names and shapes a .safetensors file declares, read from its header
/// (8-byte little-endian length, then JSON) without the engine: an independent count.</summary>
internal static class SafetensorsHeader
{
    public static Dictionary<string, long[]> Shapes(string file)
    {
        using var stream = File.OpenRead(file);
        Span<byte> length = stackalloc byte[8];
        stream.ReadExactly(length);
        var header = new byte[BinaryPrimitives.ReadInt64LittleEndian(length)];
        stream.ReadExactly(header);
        using var json = JsonDocument.Parse(header);
        return json.RootElement.EnumerateObject()
            .Where(p => p.Name != "__metadata__")
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());
    }

    public static long Parameters(string modelDirectory) =>
        Directory.GetFiles(modelDirectory, "*.safetensors").SelectMany(f => Shapes(f).Values).Sum(s => s.Aggregate(1L, (a, b) => a * b));
}
