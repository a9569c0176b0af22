using System.Text;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>A GGUF file (v2 or v3, little-endian) opened for reading: metadata and tensor infos
/// are parsed up front; tensor data is read on request. Float tensors are read in their stored
/// dtype, block-quantised ones (Q4_0, Q8_0, Q4_K, Q6_K) dequantised to float32.</summary>
public sealed class GgufFile
{
    readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    readonly List<string> _order = [];
    readonly long _dataStart;

    public string Path { get; }
    public uint Version { get; }
    public GgufMetadata Metadata { get; } = new();
    public IReadOnlyList<string> TensorNames => _order;

    /// <summary>dims are torch order (slowest first), raw type as stored.</summary>
    readonly record struct Entry(long[] Shape, uint Type, long Offset);

    public GgufFile(string path)
    {
        Path = path;
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (reader.ReadUInt32() != GgufWriter.Magic) throw Invalid("does not start with the GGUF magic");
            Version = reader.ReadUInt32();
            if (Version is not (2 or 3)) throw Invalid($"is GGUF version {Version} (supported: 2, 3)");
            ulong tensorCount = reader.ReadUInt64();
            ulong kvCount = reader.ReadUInt64();
            for (ulong i = 0; i < kvCount; i++)
            {
                string key = ReadString(reader);
                Metadata.Set(key, ReadValue(reader, (GgufValueType)reader.ReadUInt32(), key));
            }
            for (ulong i = 0; i < tensorCount; i++)
            {
                string name = ReadString(reader);
                uint dims = reader.ReadUInt32();
                if (dims > 4) throw Invalid($"tensor '{name}' has {dims} dimensions (GGML allows at most 4)");
                var shape = new long[dims];
                for (int d = (int)dims - 1; d >= 0; d--) shape[d] = checked((long)reader.ReadUInt64());
                uint type = reader.ReadUInt32();
                long offset = checked((long)reader.ReadUInt64());
                if (!_entries.TryAdd(name, new Entry(shape, type, offset))) throw Invalid($"names tensor '{name}' twice");
                _order.Add(name);
            }
            int alignment = (int)(Metadata.OptionalInteger(GgufWriter.AlignmentKey) ?? GgufWriter.DefaultAlignment);
            _dataStart = GgufWriter.Align(stream.Position, alignment);
        }
        catch (EndOfStreamException)
        {
            throw Invalid("ends inside its header");
        }
        long fileLength = new FileInfo(path).Length;
        foreach (var (name, entry) in _entries)
        {
            if (!GgufTensorTypes.IsSupported(entry.Type)) continue;
            var type = (GgufTensorType)entry.Type;
            long rowLength = entry.Shape.Length == 0 ? 1 : entry.Shape[^1];
            if (rowLength % type.Block().Elements != 0)
                throw Invalid($"tensor '{name}' is {type} with rows of {rowLength} elements, not a multiple of its block of {type.Block().Elements}");
            long end = _dataStart + entry.Offset + type.ByteSize(entry.Shape.Aggregate(1L, (a, b) => a * b));
            if (end > fileLength) throw Invalid($"tensor '{name}' ends at byte {end}, past the end of the file");
        }
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>The torch shape (the reverse of the dims GGUF stores).</summary>
    public long[] Shape(string name) => Find(name).Shape;

    public GgufTensorType Type(string name)
    {
        var entry = Find(name);
        return GgufTensorTypes.IsSupported(entry.Type) ? (GgufTensorType)entry.Type
            : throw new NotSupportedException($"{Path}: tensor '{name}' has ggml type {entry.Type}, which we cannot read; supported: F32 (0), F16 (1), BF16 (30), Q4_0 (2), Q8_0 (8), Q4_K (12), Q6_K (14) — requantise it to one of these with llama-quantize");
    }

    /// <summary>Reads a tensor into a new CPU tensor in its torch shape: float types in their
    /// stored dtype, quantised types dequantised block by block into float32.</summary>
    public Tensor Read(string name)
    {
        var entry = Find(name);
        var type = Type(name);
        if (!type.IsQuantized()) return ReadRaw(name, entry, type);
        long elements = entry.Shape.Aggregate(1L, (a, b) => a * b);
        var raw = new byte[type.ByteSize(elements)];
        using (var handle = File.OpenHandle(Path)) ReadInto(handle, raw, _dataStart + entry.Offset, name);
        var values = new float[elements];
        GgufBlockDecoder.Decode(type, raw, values);
        return tensor(values, entry.Shape, device: CPU);
    }

    unsafe Tensor ReadRaw(string name, Entry entry, GgufTensorType type)
    {
        var tensor = empty(entry.Shape, type.ToScalarType(), device: CPU);
        long bytes = tensor.numel() * type.ElementSize();
        if (bytes == 0) return tensor;
        byte* pointer = (byte*)TensorMemory.DataPointer(tensor);
        using var handle = File.OpenHandle(Path);
        const int chunk = 1 << 24;
        for (long done = 0; done < bytes;)
        {
            int n = RandomAccess.Read(handle, new Span<byte>(pointer + done, (int)Math.Min(chunk, bytes - done)), _dataStart + entry.Offset + done);
            if (n == 0) throw Invalid($"ends inside tensor '{name}'");
            done += n;
        }
        return tensor;
    }

    void ReadInto(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> target, long offset, string name)
    {
        for (int done = 0; done < target.Length;)
        {
            int n = RandomAccess.Read(handle, target[done..], offset + done);
            if (n == 0) throw Invalid($"ends inside tensor '{name}'");
            done += n;
        }
    }

    Entry Find(string name) => _entries.TryGetValue(name, out var entry) ? entry
        : throw new KeyNotFoundException($"{Path}: no tensor '{name}'");

    InvalidDataException Invalid(string what) => new($"{Path} {what}");

    static string ReadString(BinaryReader reader)
    {
        ulong length = reader.ReadUInt64();
        if (length > int.MaxValue) throw new InvalidDataException($"GGUF string of {length} bytes is too long");
        return Encoding.UTF8.GetString(reader.ReadBytes((int)length));
    }

    object ReadValue(BinaryReader reader, GgufValueType type, string key) => type switch
    {
        GgufValueType.Array => ReadArray(reader, key),
        _ => ReadScalar(reader, type, key),
    };

    object ReadScalar(BinaryReader reader, GgufValueType type, string key) => type switch
    {
        GgufValueType.UInt8 => reader.ReadByte(),
        GgufValueType.Int8 => reader.ReadSByte(),
        GgufValueType.UInt16 => reader.ReadUInt16(),
        GgufValueType.Int16 => reader.ReadInt16(),
        GgufValueType.UInt32 => reader.ReadUInt32(),
        GgufValueType.Int32 => reader.ReadInt32(),
        GgufValueType.Float32 => reader.ReadSingle(),
        GgufValueType.Bool => reader.ReadByte() != 0,
        GgufValueType.String => ReadString(reader),
        GgufValueType.UInt64 => reader.ReadUInt64(),
        GgufValueType.Int64 => reader.ReadInt64(),
        GgufValueType.Float64 => reader.ReadDouble(),
        _ => throw Invalid($"key '{key}' has unknown value type {(uint)type}"),
    };

    Array ReadArray(BinaryReader reader, string key)
    {
        var elementType = (GgufValueType)reader.ReadUInt32();
        ulong count = reader.ReadUInt64();
        if (count > int.MaxValue) throw Invalid($"key '{key}' is an array of {count} elements");
        int n = (int)count;
        Array array = elementType switch
        {
            GgufValueType.String => new string[n],
            GgufValueType.Int32 => new int[n],
            GgufValueType.UInt32 => new uint[n],
            GgufValueType.Int64 => new long[n],
            GgufValueType.Float32 => new float[n],
            GgufValueType.Float64 => new double[n],
            GgufValueType.Bool => new bool[n],
            GgufValueType.UInt8 => new byte[n],
            _ => new object[n],   // kept so the file can be read; no key we use has such arrays
        };
        for (int i = 0; i < n; i++)
        {
            if (elementType == GgufValueType.Array) throw Invalid($"key '{key}' nests arrays, which we do not read");
            array.SetValue(ReadScalar(reader, elementType, key), i);
        }
        return array;
    }
}
