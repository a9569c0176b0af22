using System.Buffers.Binary;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>Dequantises ggml's block formats to float32, one block at a time, following the
/// block layouts of ggml-common.h and the reference dequantisers of ggml-quants.c. Products are
/// formed in float32 in the same order as ggml so the values equal what llama.cpp computes.</summary>
internal static class GgufBlockDecoder
{
    public static void Decode(GgufTensorType type, ReadOnlySpan<byte> data, Span<float> output)
    {
        var (n, bytes) = type.Block();
        if (output.Length % n != 0 || data.Length != output.Length / n * bytes)
            throw new ArgumentException($"{type}: {data.Length} bytes do not hold {output.Length} elements in blocks of {n} ({bytes} bytes each)");
        for (int b = 0; b < output.Length / n; b++)
        {
            var block = data.Slice(b * bytes, bytes);
            var y = output.Slice(b * n, n);
            switch (type)
            {
                case GgufTensorType.Q8_0: Q8_0(block, y); break;
                case GgufTensorType.Q4_0: Q4_0(block, y); break;
                case GgufTensorType.Q4_K: Q4_K(block, y); break;
                case GgufTensorType.Q6_K: Q6_K(block, y); break;
                default: throw new ArgumentOutOfRangeException(nameof(type), type, "not a block-quantised type");
            }
        }
    }

    static float Half(ReadOnlySpan<byte> bytes) => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes);

    // x = d · q, q a signed byte.
    static void Q8_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Half(block);
        for (int j = 0; j < 32; j++) y[j] = (sbyte)block[2 + j] * d;
    }

    // x = d · (q − 8); byte j holds element j in its low nibble and element j + 16 in its high one.
    static void Q4_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Half(block);
        var qs = block[2..];
        for (int j = 0; j < 16; j++)
        {
            y[j] = ((qs[j] & 0x0F) - 8) * d;
            y[j + 16] = ((qs[j] >> 4) - 8) * d;
        }
    }

    // 8 sub-blocks of 32: x = d·scale[s]·q − dmin·min[s], with 6-bit scales and mins packed into 12 bytes.
    // Each 32 bytes of qs hold two sub-blocks: the low nibbles the first, the high nibbles the next.
    static void Q4_K(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Half(block);
        float dmin = Half(block[2..]);
        var scales = block.Slice(4, 12);
        var qs = block[16..];
        for (int chunk = 0; chunk < 4; chunk++)
        {
            var (sc0, m0) = ScaleMin(2 * chunk, scales);
            var (sc1, m1) = ScaleMin(2 * chunk + 1, scales);
            float d0 = d * sc0, min0 = dmin * m0, d1 = d * sc1, min1 = dmin * m1;
            var q = qs.Slice(32 * chunk, 32);
            var o = y.Slice(64 * chunk, 64);
            for (int l = 0; l < 32; l++) o[l] = d0 * (q[l] & 0x0F) - min0;
            for (int l = 0; l < 32; l++) o[32 + l] = d1 * (q[l] >> 4) - min1;
        }
    }

    /// <summary>Sub-block j's 6-bit scale and min: j &lt; 4 sit in the low 6 bits of bytes j and
    /// j + 4; j ≥ 4 take their low 4 bits from byte j + 4 and their top 2 bits from the spare
    /// high bits of bytes j − 4 (scale) and j (min).</summary>
    internal static (int Scale, int Min) ScaleMin(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    // 16 sub-blocks of 16: x = d·scale[s]·(q − 32), q 6 bits = 4 low bits from ql and 2 high bits from qh.
    // Each half of 128 elements uses 64 bytes of ql, 32 of qh and 8 scales; element l + 32k of the
    // half takes ql[l] (k even: low nibble, odd: high) of row k/2 and bits 2k..2k+1 of qh[l].
    static void Q6_K(ReadOnlySpan<byte> block, Span<float> y)
    {
        var ql = block[..128];
        var qh = block.Slice(128, 64);
        var scales = block.Slice(192, 16);
        float d = Half(block[208..]);
        for (int half = 0; half < 2; half++)
        {
            var l4 = ql.Slice(64 * half, 64);
            var h2 = qh.Slice(32 * half, 32);
            var sc = scales.Slice(8 * half, 8);
            var o = y.Slice(128 * half, 128);
            for (int l = 0; l < 32; l++)
            {
                int s = l / 16;
                int q1 = ((l4[l] & 0x0F) | (((h2[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((l4[l + 32] & 0x0F) | (((h2[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((l4[l] >> 4) | (((h2[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((l4[l + 32] >> 4) | (((h2[l] >> 6) & 3) << 4)) - 32;
                o[l] = d * (sbyte)sc[s] * q1;
                o[l + 32] = d * (sbyte)sc[s + 2] * q2;
                o[l + 64] = d * (sbyte)sc[s + 4] * q3;
                o[l + 96] = d * (sbyte)sc[s + 6] * q4;
            }
        }
    }
}
