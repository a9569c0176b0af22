using System.Text;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>One tensor to write: its GGUF name, the torch tensor (any dtype, row-major) and the
/// GGUF type it is stored as.</summary>
public sealed record GgufTensor(string Name, Tensor Data, GgufTensorType Type);

/// <summary>Writes a GGUF v3 little-endian file (ggml/docs/gguf.md): header, metadata, tensor
/// infos, padding to the alignment, then each tensor's data aligned. Atomic: a crash leaves
/// nothing under the final name.</summary>
public static class GgufWriter
{
    public const uint Magic = 0x46554747;   // "GGUF" read as a little-endian uint32
    public const uint Version = 3;
    public const int DefaultAlignment = 32;
    public const string AlignmentKey = "general.alignment";

    public static void Write(string path, GgufMetadata metadata, IReadOnlyList<GgufTensor> tensors)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("GGUF writing assumes a little-endian machine");
        int alignment = (int)(metadata.OptionalInteger(AlignmentKey) ?? DefaultAlignment);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!names.Add(t.Name)) throw new ArgumentException($"tensor '{t.Name}' is given twice");

        // Converted up front so the infos can carry exact byte sizes and offsets.
        var stored = tensors.Select(t => t.Data.detach().cpu().to(t.Type.ToScalarType()).contiguous()).ToList();
        try
        {
            AtomicFile.Write(path, stream =>
            {
                using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
                writer.Write(Magic);
                writer.Write(Version);
                writer.Write((ulong)tensors.Count);
                writer.Write((ulong)metadata.Count);
                foreach (var (key, value) in metadata.Entries)
                {
                    WriteString(writer, key);
                    WriteValue(writer, value);
                }
                long offset = 0;
                for (int i = 0; i < tensors.Count; i++)
                {
                    WriteString(writer, tensors[i].Name);
                    var shape = stored[i].shape;
                    writer.Write((uint)shape.Length);
                    // GGML lists dimensions fastest-varying first: the reverse of torch's shape.
                    for (int d = shape.Length - 1; d >= 0; d--) writer.Write((ulong)shape[d]);
                    writer.Write((uint)tensors[i].Type);
                    writer.Write((ulong)offset);
                    offset = Align(offset + ByteCount(stored[i]), alignment);
                }
                writer.Flush();
                Pad(stream, alignment);
                foreach (var tensor in stored)
                {
                    WriteData(stream, tensor);
                    Pad(stream, alignment);
                }
            });
        }
        finally
        {
            foreach (var t in stored) t.Dispose();
        }
    }

    internal static long Align(long offset, int alignment) => (offset + alignment - 1) / alignment * alignment;

    static long ByteCount(Tensor t) => t.numel() * t.element_size();

    static void Pad(Stream stream, int alignment)
    {
        long padding = Align(stream.Position, alignment) - stream.Position;
        for (long i = 0; i < padding; i++) stream.WriteByte(0);
    }

    static void WriteString(BinaryWriter writer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    static void WriteValue(BinaryWriter writer, object value)
    {
        var type = GgufValueTypes.Of(value);
        writer.Write((uint)type);
        if (value is Array array)
        {
            writer.Write((uint)GgufValueTypes.ElementOf(array));
            writer.Write((ulong)array.Length);
            foreach (var element in array) WriteScalar(writer, element!);
        }
        else WriteScalar(writer, value);
    }

    static void WriteScalar(BinaryWriter writer, object value)
    {
        switch (value)
        {
            case byte v: writer.Write(v); break;
            case sbyte v: writer.Write(v); break;
            case ushort v: writer.Write(v); break;
            case short v: writer.Write(v); break;
            case uint v: writer.Write(v); break;
            case int v: writer.Write(v); break;
            case float v: writer.Write(v); break;
            case bool v: writer.Write((byte)(v ? 1 : 0)); break;
            case string v: WriteString(writer, v); break;
            case ulong v: writer.Write(v); break;
            case long v: writer.Write(v); break;
            case double v: writer.Write(v); break;
            default: throw new ArgumentException($"{value.GetType().Name} cannot be written as a GGUF scalar");
        }
    }

    static unsafe void WriteData(Stream stream, Tensor tensor)
    {
        long bytes = ByteCount(tensor);
        if (bytes == 0) return;
        byte* pointer = (byte*)TensorMemory.DataPointer(tensor);
        const int chunk = 1 << 24;
        for (long done = 0; done < bytes; done += chunk)
            stream.Write(new ReadOnlySpan<byte>(pointer + done, (int)Math.Min(chunk, bytes - done)));
    }
}
