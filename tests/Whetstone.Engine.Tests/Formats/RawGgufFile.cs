using System.Text;

namespace Whetstone.Engine.Tests.Formats;

/// <summary>Writes a GGUF v3 file byte by byte from hand-made tensor data, independently of
/// GgufWriter, so tests can store block-quantised payloads we never write ourselves.</summary>
static class RawGgufFile
{
    public sealed record Tensor(string Name, long[] TorchShape, uint GgmlType, byte[] Data);

    public static void Write(string path, params Tensor[] tensors)
    {
        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write(0x46554747u);
        w.Write(3u);
        w.Write((ulong)tensors.Length);
        w.Write(0UL);   // no metadata: alignment is the default 32
        long offset = 0;
        foreach (var t in tensors)
        {
            var name = Encoding.UTF8.GetBytes(t.Name);
            w.Write((ulong)name.Length);
            w.Write(name);
            w.Write((uint)t.TorchShape.Length);
            foreach (var d in t.TorchShape.Reverse()) w.Write((ulong)d);
            w.Write(t.GgmlType);
            w.Write((ulong)offset);
            offset += (t.Data.Length + 31) / 32 * 32;
        }
        w.Flush();
        while (stream.Position % 32 != 0) stream.WriteByte(0);
        foreach (var t in tensors)
        {
            w.Write(t.Data);
            w.Flush();
            while (stream.Position % 32 != 0) stream.WriteByte(0);
        }
    }
}
