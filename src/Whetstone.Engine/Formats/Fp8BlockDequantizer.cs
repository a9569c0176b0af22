using static TorchSharp.torch;

namespace Whetstone.Engine.Formats;

/// <summary>DeepSeek-V3 / Kimi K2 release their linear weights as float8_e4m3fn with one fp32
/// scale per 128 × 128 block ("weight_scale_inv" [⌈out/128⌉, ⌈in/128⌉]): w = fp8 · scale_inv of
/// the block holding it, the last row/column of blocks possibly partial. Decoded through a
/// 256-entry table (TorchSharp has no float8 type), once, at load.</summary>
public static class Fp8BlockDequantizer
{
    public const int DefaultBlockSize = 128;

    /// <summary>Largest finite e4m3fn magnitude (S.1111.110 = 1.75 · 2⁸).</summary>
    public const float MaxFinite = 448f;

    static readonly float[] Table = BuildTable();

    /// <summary>e4m3fn: 1 sign bit, 4 exponent bits (bias 7), 3 mantissa bits; exponent 0 is
    /// subnormal (m · 2⁻⁹); S.1111.111 is NaN and there are no infinities.</summary>
    public static float Decode(byte bits)
    {
        int exponent = (bits >> 3) & 0xF, mantissa = bits & 7;
        float magnitude = exponent == 0xF && mantissa == 7 ? float.NaN
            : exponent == 0 ? mantissa * MathF.Pow(2, -9)
            : (1 + mantissa / 8f) * MathF.Pow(2, exponent - 7);
        return (bits & 0x80) != 0 ? -magnitude : magnitude;
    }

    static float[] BuildTable()
    {
        var table = new float[256];
        for (int b = 0; b < 256; b++) table[b] = Decode((byte)b);
        return table;
    }

    /// <summary>fp8 bits [out, in] (uint8) and scale_inv [⌈out/b⌉, ⌈in/b⌉] → fp32 [out, in].</summary>
    public static Tensor Dequantize(Tensor bits, Tensor scaleInverse, int blockSize = DefaultBlockSize)
    {
        if (bits.dtype != ScalarType.Byte || bits.dim() != 2) throw new ArgumentException("fp8 weights must be a 2-D uint8 tensor of e4m3fn bits");
        long rows = bits.shape[0], columns = bits.shape[1];
        long blockRows = (rows + blockSize - 1) / blockSize, blockColumns = (columns + blockSize - 1) / blockSize;
        if (scaleInverse.dim() != 2 || scaleInverse.shape[0] != blockRows || scaleInverse.shape[1] != blockColumns)
            throw new InvalidDataException($"weight_scale_inv has shape [{string.Join(", ", scaleInverse.shape)}], expected [{blockRows}, {blockColumns}] for a [{rows}, {columns}] weight in {blockSize}×{blockSize} blocks");
        using var scope = NewDisposeScope();
        var values = tensor(Table).index_select(0, bits.flatten().to(ScalarType.Int64)).view(rows, columns);
        var scales = scaleInverse.to(ScalarType.Float32)
            .repeat_interleave(blockSize, 0).narrow(0, 0, rows)
            .repeat_interleave(blockSize, 1).narrow(1, 0, columns);
        return (values * scales).MoveToOuterDisposeScope();
    }

    /// <summary>The inverse, for writing test and init-model checkpoints in the released format:
    /// each block scaled so its largest magnitude maps to 448, then rounded to the nearest e4m3fn.</summary>
    public static (Tensor Bits, Tensor ScaleInverse) Quantize(Tensor weight, int blockSize = DefaultBlockSize)
    {
        long rows = weight.shape[0], columns = weight.shape[1];
        long blockRows = (rows + blockSize - 1) / blockSize, blockColumns = (columns + blockSize - 1) / blockSize;
        var w = weight.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var scales = new float[blockRows * blockColumns];
        var bits = new byte[rows * columns];
        for (long br = 0; br < blockRows; br++)
            for (long bc = 0; bc < blockColumns; bc++)
            {
                long r1 = Math.Min(rows, (br + 1) * blockSize), c1 = Math.Min(columns, (bc + 1) * blockSize);
                float amax = 0;
                for (long r = br * blockSize; r < r1; r++)
                    for (long c = bc * blockSize; c < c1; c++) amax = Math.Max(amax, Math.Abs(w[r * columns + c]));
                float scale = amax == 0 ? 1 : amax / MaxFinite;
                scales[br * blockColumns + bc] = scale;
                for (long r = br * blockSize; r < r1; r++)
                    for (long c = bc * blockSize; c < c1; c++) bits[r * columns + c] = Encode(w[r * columns + c] / scale);
            }
        return (tensor(bits, [rows, columns]), tensor(scales, [blockRows, blockColumns]));
    }

    /// <summary>The nearest e4m3fn to v (clamped to ±448). Codes 0x00–0x7E increase monotonically.</summary>
    public static byte Encode(float v)
    {
        float magnitude = Math.Min(Math.Abs(v), MaxFinite);
        int low = 0, high = 0x7E;
        while (low < high)
        {
            int mid = (low + high + 1) / 2;
            if (Table[mid] <= magnitude) low = mid; else high = mid - 1;
        }
        int code = low < 0x7E && Table[low + 1] - magnitude < magnitude - Table[low] ? low + 1 : low;
        return (byte)(v < 0 ? code | 0x80 : code);
    }
}
