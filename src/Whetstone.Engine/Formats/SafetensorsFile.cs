using System.IO.MemoryMappedFiles;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats;

/// <summary>One .safetensors file opened for reading: an 8-byte little-endian header length,
/// a JSON header naming each tensor's dtype, shape and byte range, then the raw data.
/// The file is memory-mapped, so reading a tensor is one copy into torch-owned memory.</summary>
public sealed class SafetensorsFile : IDisposable
{
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly long _dataStart;
    readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IEnumerable<string> TensorNames => _entries.Keys;

    // Float8: stored as F8_E4M3, read as its raw bits (uint8); see Fp8BlockDequantizer.
    readonly record struct Entry(ScalarType Dtype, long[] Shape, long Begin, long End, bool Float8 = false);

    public SafetensorsFile(string path)
    {
        Path = path;
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8) throw new InvalidDataException($"{path}: too short to be a safetensors file ({fileLength} bytes)");
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        try
        {
            long headerLength = _view.ReadInt64(0);
            if (headerLength <= 0 || 8 + headerLength > fileLength)
                throw new InvalidDataException($"{path}: header length {headerLength} does not fit in a {fileLength}-byte file");
            var headerBytes = new byte[headerLength];
            _view.ReadArray(8, headerBytes, 0, headerBytes.Length);
            _dataStart = 8 + headerLength;
            JsonObject header;
            try { header = JsonNode.Parse(headerBytes)!.AsObject(); }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
            { throw new InvalidDataException($"{path}: header is not a JSON object: {e.Message}"); }

            var metadata = new Dictionary<string, string>();
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__")
                {
                    foreach (var (k, v) in node!.AsObject()) metadata[k] = v?.GetValue<string>() ?? "";
                    continue;
                }
                _entries[name] = ParseEntry(name, node, fileLength - _dataStart);
            }
            Metadata = metadata;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    Entry ParseEntry(string name, JsonNode? node, long dataLength)
    {
        try
        {
            string dtypeName = node!["dtype"]!.GetValue<string>();
            bool float8 = dtypeName == SafetensorsDtype.Float8E4M3;
            var dtype = float8 ? ScalarType.Byte : SafetensorsDtype.ToScalarType(dtypeName, name);
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray();
            long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
            long expected = shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDtype.ElementSize(dtype);
            if (begin < 0 || end < begin || end > dataLength)
                throw new InvalidDataException($"{Path}: tensor '{name}': data_offsets [{begin}, {end}] lie outside the {dataLength} data bytes");
            if (end - begin != expected)
                throw new InvalidDataException($"{Path}: tensor '{name}': {end - begin} bytes do not match shape [{string.Join(", ", shape)}] of {dtype} ({expected} bytes)");
            return new Entry(dtype, shape, begin, end, float8);
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{Path}: tensor '{name}': malformed header entry ({e.Message})");
        }
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    public long[] Shape(string name) => Get(name).Shape;

    public ScalarType Dtype(string name) => Get(name).Dtype;

    /// <summary>Whether the tensor is float8_e4m3fn (its <see cref="Read"/> gives the raw bits).</summary>
    public bool IsFloat8(string name) => Get(name).Float8;

    Entry Get(string name) => _entries.TryGetValue(name, out var e) ? e
        : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>Reads a tensor in its stored dtype into new CPU memory.</summary>
    public unsafe Tensor Read(string name)
    {
        var entry = Get(name);
        var tensor = empty(entry.Shape, entry.Dtype, device: CPU);   // checkpoints are read into host memory, then placed
        long length = entry.End - entry.Begin;
        if (length == 0) return tensor;
        byte* basePointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
        try
        {
            byte* source = basePointer + _view.PointerOffset + _dataStart + entry.Begin;
            Buffer.MemoryCopy(source, (void*)TensorMemory.DataPointer(tensor), length, length);
        }
        finally
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
        return tensor;
    }

    public void Dispose()
    {
        _view?.Dispose();
        _map?.Dispose();
    }
}
