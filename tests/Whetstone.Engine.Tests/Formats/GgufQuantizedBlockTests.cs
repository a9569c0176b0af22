using Whetstone.Engine.Formats.Gguf;

namespace Whetstone.Engine.Tests.Formats;

/// <summary>Each quantised type is decoded from blocks built here by an encoder that follows the
/// format's definition (ggml-common.h): the test picks the scales and quants, packs them into the
/// block layout, and expects every element to equal the defining formula, computed in fp64.</summary>
public class GgufQuantizedBlockTests
{
    const int Rows = 3;

    static Half RandomHalf(Random random, double scale) => (Half)((random.NextDouble() * 2 - 1) * scale);

    /// <summary>Writes one tensor [Rows, columns] of the given blocks and reads it back through GgufFile.</summary>
    static float[] RoundTrip(GgufTensorType type, int columns, byte[] blocks)
    {
        var path = Path.Combine(TestModels.TempDirectory(), "q.gguf");
        RawGgufFile.Write(path, new RawGgufFile.Tensor("w", [Rows, columns], (uint)type, blocks));
        var file = new GgufFile(path);
        Assert.Equal(type, file.Type("w"));
        using var tensor = file.Read("w");
        Assert.Equal([(long)Rows, columns], tensor.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, tensor.dtype);
        return tensor.data<float>().ToArray();
    }

    static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Q8_0IsScaleTimesSignedByte()
    {
        var random = new Random(1);
        int columns = 64, blocks = Rows * columns / 32;
        var bytes = new List<byte>();
        var expected = new double[Rows * columns];
        for (int b = 0; b < blocks; b++)
        {
            var d = RandomHalf(random, 0.1);
            bytes.AddRange(BitConverter.GetBytes(d));
            for (int j = 0; j < 32; j++)
            {
                sbyte q = (sbyte)random.Next(-128, 128);
                bytes.Add((byte)q);
                expected[b * 32 + j] = (double)d * q;
            }
        }
        AssertClose(expected, RoundTrip(GgufTensorType.Q8_0, columns, bytes.ToArray()));
    }

    [Fact]
    public void Q4_0IsScaleTimesNibbleMinusEight()
    {
        var random = new Random(2);
        int columns = 96, blocks = Rows * columns / 32;
        var bytes = new List<byte>();
        var expected = new double[Rows * columns];
        for (int b = 0; b < blocks; b++)
        {
            var d = RandomHalf(random, 0.1);
            var q = Enumerable.Range(0, 32).Select(_ => random.Next(16)).ToArray();
            bytes.AddRange(BitConverter.GetBytes(d));
            // Byte j: element j in the low nibble, element j + 16 in the high nibble.
            for (int j = 0; j < 16; j++) bytes.Add((byte)(q[j] | (q[j + 16] << 4)));
            for (int j = 0; j < 32; j++) expected[b * 32 + j] = (double)d * (q[j] - 8);
        }
        AssertClose(expected, RoundTrip(GgufTensorType.Q4_0, columns, bytes.ToArray()));
    }

    [Fact]
    public void Q4_KIsSubBlockScaleTimesNibbleMinusSubBlockMin()
    {
        var random = new Random(3);
        int columns = 256, blocks = Rows;
        var bytes = new List<byte>();
        var expected = new double[Rows * columns];
        for (int b = 0; b < blocks; b++)
        {
            var d = RandomHalf(random, 0.01);
            var dmin = RandomHalf(random, 0.01);
            var scale = Enumerable.Range(0, 8).Select(_ => random.Next(64)).ToArray();
            var min = Enumerable.Range(0, 8).Select(_ => random.Next(64)).ToArray();
            var q = Enumerable.Range(0, 256).Select(_ => random.Next(16)).ToArray();
            bytes.AddRange(BitConverter.GetBytes(d));
            bytes.AddRange(BitConverter.GetBytes(dmin));
            // 12 bytes: [0..4) scale j low 6 bits + top 2 bits of scale j+4; [4..8) the same for mins;
            // [8..12) low nibbles of scale j+4 (low) and min j+4 (high).
            var packed = new byte[12];
            for (int j = 0; j < 4; j++)
            {
                packed[j] = (byte)(scale[j] | ((scale[j + 4] >> 4) << 6));
                packed[j + 4] = (byte)(min[j] | ((min[j + 4] >> 4) << 6));
                packed[j + 8] = (byte)((scale[j + 4] & 0xF) | ((min[j + 4] & 0xF) << 4));
            }
            bytes.AddRange(packed);
            // 128 bytes: each 32 hold elements 64c..64c+31 in the low nibbles and 64c+32.. in the high ones.
            var qs = new byte[128];
            for (int e = 0; e < 256; e++)
            {
                int c = e / 64, within = e % 64;
                int at = 32 * c + within % 32;
                qs[at] |= (byte)(within < 32 ? q[e] : q[e] << 4);
            }
            bytes.AddRange(qs);
            for (int e = 0; e < 256; e++)
                expected[b * 256 + e] = (double)d * scale[e / 32] * q[e] - (double)dmin * min[e / 32];
        }
        AssertClose(expected, RoundTrip(GgufTensorType.Q4_K, columns, bytes.ToArray()));
    }

    [Fact]
    public void Q6_KIsSubBlockScaleTimesSixBitQuantMinusThirtyTwo()
    {
        var random = new Random(4);
        int columns = 512, blocks = Rows * 2;
        var bytes = new List<byte>();
        var expected = new double[Rows * columns];
        for (int b = 0; b < blocks; b++)
        {
            var d = RandomHalf(random, 0.01);
            var scale = Enumerable.Range(0, 16).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
            var q = Enumerable.Range(0, 256).Select(_ => random.Next(64)).ToArray();
            var ql = new byte[128];
            var qh = new byte[64];
            // Element e: half h = e/128, r = e%128, k = r/32, l = r%32. Its low 4 bits sit in
            // ql[64h + l + 32(k odd)] (low nibble for k < 2, high for k ≥ 2); its top 2 bits in
            // bits 2k..2k+1 of qh[32h + l]; its scale is scales[8h + l/16 + 2k].
            for (int e = 0; e < 256; e++)
            {
                int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
                ql[64 * h + l + 32 * (k % 2)] |= (byte)(k < 2 ? q[e] & 0xF : (q[e] & 0xF) << 4);
                qh[32 * h + l] |= (byte)((q[e] >> 4) << (2 * k));
                expected[b * 256 + e] = (double)d * scale[8 * h + l / 16 + 2 * k] * (q[e] - 32);
            }
            bytes.AddRange(ql);
            bytes.AddRange(qh);
            bytes.AddRange(scale.Select(s => (byte)s));
            bytes.AddRange(BitConverter.GetBytes(d));
        }
        AssertClose(expected, RoundTrip(GgufTensorType.Q6_K, columns, bytes.ToArray()));
    }

    [Fact]
    public void RowsThatAreNotWholeBlocksAreRefused()
    {
        var path = Path.Combine(TestModels.TempDirectory(), "bad.gguf");
        RawGgufFile.Write(path, new RawGgufFile.Tensor("w", [2, 48], (uint)GgufTensorType.Q8_0, new byte[3 * 34]));
        var error = Assert.Throws<InvalidDataException>(() => new GgufFile(path));
        Assert.Contains("'w'", error.Message);
        Assert.Contains("48", error.Message);
    }

    [Fact]
    public void UnsupportedQuantisedTypeIsRefusedByNameAndType()
    {
        var path = Path.Combine(TestModels.TempDirectory(), "q5.gguf");
        RawGgufFile.Write(path, new RawGgufFile.Tensor("w", [1, 32], 6u /* Q5_0 */, new byte[22]));
        var error = Assert.Throws<NotSupportedException>(() => new GgufFile(path).Read("w"));
        Assert.Contains("'w'", error.Message);
        Assert.Contains("ggml type 6", error.Message);
    }
}
