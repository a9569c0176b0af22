using System.Text;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats;

/// <summary>Writes tensors to a .safetensors file atomically: everything goes to a temporary file
/// beside the target, which is flushed to disk and then renamed over it, so a crash never leaves
/// a half-written file under the real name.</summary>
public static class SafetensorsWriter
{
    /// <param name="float8Names">uint8 tensors holding float8_e4m3fn bits, labelled F8_E4M3.</param>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, IReadOnlySet<string>? float8Names = null)
    {
        var header = new JsonObject();
        var meta = new JsonObject { ["format"] = "pt" };
        if (metadata is not null) foreach (var (k, v) in metadata) meta[k] = v;
        header["__metadata__"] = meta;

        var contiguous = new List<(string Name, Tensor Tensor, long Bytes)>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            var cpu = tensor.detach().cpu().contiguous();
            long bytes = cpu.numel() * SafetensorsDtype.ElementSize(cpu.dtype);
            header[name] = new JsonObject
            {
                ["dtype"] = float8Names?.Contains(name) == true && cpu.dtype == ScalarType.Byte
                    ? SafetensorsDtype.Float8E4M3 : SafetensorsDtype.FromScalarType(cpu.dtype),
                ["shape"] = new JsonArray(cpu.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            contiguous.Add((name, cpu, bytes));
            offset += bytes;
        }

        // The header is padded with spaces to a multiple of 8 so the data that follows is aligned.
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8;
        var headerPadded = new byte[padded];
        Array.Fill(headerPadded, (byte)' ');
        headerBytes.CopyTo(headerPadded, 0);

        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((long)padded));
            stream.Write(headerPadded);
            foreach (var (_, tensor, bytes) in contiguous) WriteData(stream, tensor, bytes);
        });
        foreach (var (_, tensor, _) in contiguous) tensor.Dispose();
    }

    static unsafe void WriteData(Stream stream, Tensor tensor, long bytes)
    {
        byte* pointer = (byte*)TensorMemory.DataPointer(tensor);
        const int chunk = 1 << 24;
        for (long done = 0; done < bytes; done += chunk)
        {
            int n = (int)Math.Min(chunk, bytes - done);
            stream.Write(new ReadOnlySpan<byte>(pointer + done, n));
        }
    }
}
