using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Whetstone.Engine.Formats;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>y = x·Wᵀ (+ b) for the 1–16 rows of a decode step, written out with SIMD vectors of the
/// width <see cref="DecodeInstructionSet"/> chose (AVX-512, AVX2+FMA, or portable 128-bit for
/// ARM64's NEON). At up to 4 rows a step is little else than reading every weight once, and
/// libtorch's matrix-vector products leave most of the memory bandwidth unused (fp32 GEMV on one
/// thread, bf16 at about half of streaming speed): each weight row is streamed once for all rows.
/// Past 4 rows the product is compute-bound and libtorch's small-M GEMMs run at ~half of this
/// CPU's FMA peak (MKL fp32) or repack the weights every call (oneDNN bf16): register tiles of 4
/// weight rows × 4 input rows use every loaded vector 4 times, prefetching the weights of a later
/// tile. Weights stay in their stored dtype; bf16 is widened to fp32 in registers, products are
/// summed in fp32 and a bf16 result is rounded once, to nearest even, as libtorch does. Output
/// rows are shared among all cores. Used only without autograd, on the CPU, for fp32 or bf16;
/// everything else (and <see cref="DecodeIsa.Off"/>) goes to torch. The loops here are written
/// once, generic over the width (<see cref="IDecodeVectors{TVector}"/>); the inner kernels are in
/// DecodeMatmul.Kernels.cs. Hot methods skip tiered JIT (AggressiveOptimization): unoptimised
/// tier-0 vector code is many times slower, and a short decode would run in it before the promotion.</summary>
internal static unsafe partial class DecodeMatmul
{
    /// <summary>Most rows of a decode step the kernels take (more go to torch). WHET_DECODE_KERNEL_ROWS overrides it, to compare.</summary>
    public static int MaxRows { get; set; } =
        int.TryParse(Environment.GetEnvironmentVariable("WHET_DECODE_KERNEL_ROWS"), out int rows) ? rows : 16;

    /// <summary>Most rows of an fp32 product (a prefill's projections) the tiles take: they beat
    /// MKL's fp32 GEMM at these shapes too (30m prefill of 256 tokens +12%, bench --peer). bf16 too
    /// below AVX-512 (<see cref="MaxRowsAt"/>).</summary>
    public static int MaxFp32Rows { get; set; } = 256;

    /// <summary>Most rows the kernels take at this width and weight dtype. bf16 on AVX-512 stops at
    /// <see cref="MaxRows"/>: past it oneDNN's AVX512-BF16 dot products do twice the work per
    /// instruction. Without AVX-512 oneDNN has no bf16 arithmetic and converts (30m bf16 prefill
    /// held to AVX2: torch 171 tok/s against the tiles' fp32 883, bench --peer --avx2), so bf16
    /// takes the tiles as far as fp32 does.</summary>
    public static int MaxRowsAt(DecodeIsa isa, bool bf16) =>
        bf16 && isa == DecodeIsa.Avx512 ? MaxRows : Math.Max(MaxRows, MaxFp32Rows);

    // Rows per block of a large product: 64 rows of up to 2,304 fp32 inputs stay in L2.
    const int RowBlock = 64;

    // Up to this many rows each weight row is streamed once for all of them (bandwidth-bound);
    // past it, tiles reuse loaded weights and inputs (compute-bound). Tiles measured no faster at
    // 2 or 4 rows (bench --kernel-ab --streams=2,4).
    const int StreamingRows = 4;

    // How many tiles ahead the tiles prefetch weights (120m, 16 rows: 0 → 1 tile ahead +15%,
    // 2 ahead another ~0–5%, 4 ahead worse again).
    const int PrefetchGroups = 2;

    /// <summary>Whether the kernels run now (<see cref="DecodeInstructionSet.Current"/> is not off).</summary>
    public static bool IsSupported => DecodeInstructionSet.Current != DecodeIsa.Off;

    // Output rows per work item: enough to amortise taking one, small enough to balance the cores
    // when other processes share them.
    const int RowsPerChunk = 64;

    /// <summary>Input widths the tiles take at this ISA (past the streaming rows): whole vectors
    /// of fp32, or whole vectors of bf16 pairs.</summary>
    public static int TileWidth(DecodeIsa isa, bool bf16) => (bf16 ? 2 : 1) * isa switch
    {
        DecodeIsa.Avx512 => Avx512Vectors.Count,
        DecodeIsa.Avx2 => Avx2Vectors.Count,
        DecodeIsa.Vector128 => PortableVector128.Count,
        _ => int.MaxValue,
    };

    /// <summary>Whether <see cref="Linear"/> takes this product (else call torch).</summary>
    public static bool Applies(Tensor x, Tensor weight)
    {
        var isa = DecodeInstructionSet.Current;
        if (isa == DecodeIsa.Off || is_grad_enabled()) return false;
        var dtype = weight.dtype;
        if (dtype != ScalarType.Float32 && dtype != ScalarType.BFloat16) return false;
        if (x.dtype != dtype || x.device_type != TorchSharp.DeviceType.CPU) return false;
        long inFeatures = weight.shape[1];
        if (x.dim() == 0 || x.shape[^1] != inFeatures || inFeatures > int.MaxValue || !weight.is_contiguous()) return false;
        long rows = x.numel() / Math.Max(1, inFeatures);
        // Past the streaming rows only the tiles beat torch; they need whole vectors.
        if (rows > StreamingRows && inFeatures % TileWidth(isa, dtype == ScalarType.BFloat16) != 0) return false;
        return rows >= 1 && rows <= MaxRowsAt(isa, dtype == ScalarType.BFloat16);
    }

    /// <summary>x: [.., in], weight: [out, in] contiguous, bias: [out] or null; all one dtype.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        int inFeatures = (int)weight.shape[1], outFeatures = (int)weight.shape[0];
        var input = x.is_contiguous() ? x : x.contiguous();
        int rows = (int)(input.numel() / inFeatures);
        var shape = x.shape.ToArray();
        shape[^1] = outFeatures;
        var y = empty(shape, weight.dtype, device: weight.device);   // the CPU: Applies takes only CPU tensors
        bool bf16 = weight.dtype == ScalarType.BFloat16;

        void* xPointer = (void*)TensorMemory.DataPointer(input), yPointer = (void*)TensorMemory.DataPointer(y);
        if (!bf16)
        {
            // fp32 in and out: the kernel reads and writes the tensors' own memory.
            Run([new Target(weight, bias, (float*)yPointer)], (float*)xPointer, rows, inFeatures, bf16: false);
            return y;
        }
        // bf16: the input rows widened to fp32 once (not once per output row), the result rounded once.
        var xs = Scratch(rows * inFeatures + rows * outFeatures);
        var ys = xs + rows * inFeatures;
        WidenBf16(xPointer, xs, rows * inFeatures);
        Run([new Target(weight, bias, ys)], xs, rows, inFeatures, bf16: true);
        Store(ys, yPointer, rows * outFeatures, bf16: true);
        return y;
    }

    /// <summary>One product of a batch: W [out, in] (+ b) in the weights' dtype, result [rows, out] in
    /// fp32. Holds raw pointers: the caller keeps the tensors alive for the call.</summary>
    public readonly struct Target(Tensor weight, Tensor? bias, float* y)
    {
        public void* Weight { get; } = (void*)TensorMemory.DataPointer(weight);
        public void* Bias { get; } = bias is null ? null : (void*)TensorMemory.DataPointer(bias);
        public int Out { get; } = (int)weight.shape[0];
        public float* Y { get; } = y;
    }

    /// <summary>Several products over the same input rows x ([rows, in] fp32) — q/k/v, or gate and
    /// up — in one parallel pass, at the current ISA (which must not be off).</summary>
    public static void Run(Target[] targets, float* x, int rows, int inFeatures, bool bf16)
    {
        switch (DecodeInstructionSet.Current)
        {
            case DecodeIsa.Avx512: Run<Avx512Vectors, Vector512<float>>(targets, x, rows, inFeatures, bf16); break;
            case DecodeIsa.Avx2: Run<Avx2Vectors, Vector256<float>>(targets, x, rows, inFeatures, bf16); break;
            case DecodeIsa.Vector128: Run<PortableVector128, Vector128<float>>(targets, x, rows, inFeatures, bf16); break;
            default: throw new InvalidOperationException("the decode kernels are off (WHET_DECODE_ISA / WHET_DECODE_KERNEL)");
        }
    }

    /// <summary><see cref="Run"/> at one width, so that the cores are woken once for all targets.</summary>
    public static void Run<TIsa, TVector>(Target[] targets, float* x, int rows, int inFeatures, bool bf16)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        // Past a few rows the product is compute-bound: tiles of 4 outputs × 4 rows use each
        // loaded weight vector 4 times and each input vector 4 times (other widths stream).
        bool tiled = rows > StreamingRows && inFeatures % ((bf16 ? 2 : 1) * TIsa.Count) == 0;
        int validRows = rows;
        if (tiled)
        {
            x = TileInput(x, rows, inFeatures, bf16, TIsa.Count);
            rows = (rows + 3) & ~3;
        }
        int chunks = 0;
        foreach (var t in targets) chunks += (t.Out + RowsPerChunk - 1) / RowsPerChunk;
        if (chunks == 1 || Environment.ProcessorCount == 1)
        {
            foreach (var t in targets) Outputs<TIsa, TVector>(t, x, rows, validRows, inFeatures, bf16, tiled, 0, t.Out);
            return;
        }
        Parallel.For(0, chunks, chunk =>
        {
            foreach (var t in targets)
            {
                int own = (t.Out + RowsPerChunk - 1) / RowsPerChunk;
                if (chunk < own)
                {
                    Outputs<TIsa, TVector>(t, x, rows, validRows, inFeatures, bf16, tiled, chunk * RowsPerChunk, Math.Min(t.Out, (chunk + 1) * RowsPerChunk));
                    return;
                }
                chunk -= own;
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Outputs<TIsa, TVector>(Target t, float* x, int rows, int validRows, int n, bool bf16, bool tiled, int first, int end)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        if (!tiled) Rows<TIsa, TVector>(t, x, rows, n, bf16, first, end);
        else if (bf16) TilesBf16<TIsa, TVector>(t, x, rows, validRows, n, first, end);
        else TilesF32<TIsa, TVector>(t, x, rows, validRows, n, first, end);
    }

    // Outputs [first, end) of one target, one weight row at a time: at a few input rows the
    // product is bound by reading the weights, which this streams once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Rows<TIsa, TVector>(Target t, float* x, int rows, int n, bool bf16, int first, int end)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        var sums = stackalloc float[4];
        for (int o = first; o < end; o++)
        {
            float b = t.Bias is null ? 0 : bf16 ? Bf16ToFloat(((ushort*)t.Bias)[o]) : ((float*)t.Bias)[o];
            for (int r0 = 0; r0 < rows; r0 += 4)
            {
                int block = Math.Min(4, rows - r0);
                if (bf16) Dot<TIsa, TVector, Bf16Weights, ushort>((ushort*)t.Weight + (long)o * n, x + (long)r0 * n, n, block, sums);
                else Dot<TIsa, TVector, Fp32Weights, float>((float*)t.Weight + (long)o * n, x + (long)r0 * n, n, block, sums);
                for (int r = 0; r < block; r++) t.Y[(long)(r0 + r) * t.Out + o] = sums[r] + b;
            }
        }
    }

    // The input rows as the tiles read them: padded with zero rows to a multiple of 4, and for bf16
    // weights each block of 2 vectors split into its `width` even then its `width` odd elements,
    // matching how a 32-bit lane of packed bf16 weights unpacks (low half = even element, high
    // half = odd one).
    static float* TileInput(float* x, int rows, int n, bool bf16, int width)
    {
        int padded = (rows + 3) & ~3;
        float* tiles = TileScratch(padded * n);
        if (bf16)
        {
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < n; k += 2 * width)
                {
                    float* source = x + (long)r * n + k, target = tiles + (long)r * n + k;
                    for (int i = 0; i < width; i++)
                    {
                        target[i] = source[2 * i];
                        target[width + i] = source[2 * i + 1];
                    }
                }
        }
        else Buffer.MemoryCopy(x, tiles, (long)rows * n * 4, (long)rows * n * 4);
        new Span<float>(tiles + (long)rows * n, (padded - rows) * n).Clear();
        return tiles;
    }

    // Outputs [first, end) for all (padded) rows in tiles of 4 weight rows × 4 input rows; a last
    // tile with fewer than 4 outputs repeats its last weight row and drops the copies. (TilesBf16
    // is the same over bf16 weights.)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TilesF32<TIsa, TVector>(Target t, float* x, int rows, int validRows, int n, int first, int end)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        var sums = stackalloc Vector128<float>[4];
        float* w = (float*)t.Weight;
        // Many rows (a prefill) go in blocks that stay in L2 while this chunk's weights pass by.
        for (int block = 0; block < rows; block += RowBlock)
        {
            int blockEnd = Math.Min(rows, block + RowBlock);
            for (int o = first; o < end; o += 4)
            {
                int valid = Math.Min(4, end - o);
                float* w0 = w + (long)o * n, w1 = w + (long)(o + Math.Min(1, valid - 1)) * n,
                    w2 = w + (long)(o + Math.Min(2, valid - 1)) * n, w3 = w + (long)(o + Math.Min(3, valid - 1)) * n;
                for (int r0 = block; r0 < blockEnd; r0 += 4)
                {
                    TileF32<TIsa, TVector>(w0, w1, w2, w3, x + (long)r0 * n, n, w + (long)PrefetchRow(o, r0 - block, t.Out) * n, sums);
                    StoreTile(t, sums, r0, Math.Min(4, validRows - r0), o, valid, false);
                }
            }
        }
    }

    // The weight row the pass'th pass over a tile prefetches: the first 4 passes fetch the 4 rows of
    // the tile PrefetchGroups ahead; later passes (prefill blocks) re-touch one already fetched.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int PrefetchRow(int o, int rowInBlock, int outFeatures) =>
        Math.Min(o + 4 * PrefetchGroups + Math.Min(rowInBlock / 4, 3), outFeatures - 1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TilesBf16<TIsa, TVector>(Target t, float* x, int rows, int validRows, int n, int first, int end)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        var sums = stackalloc Vector128<float>[4];
        ushort* w = (ushort*)t.Weight;
        for (int block = 0; block < rows; block += RowBlock)
        {
            int blockEnd = Math.Min(rows, block + RowBlock);
            for (int o = first; o < end; o += 4)
            {
                int valid = Math.Min(4, end - o);
                ushort* w0 = w + (long)o * n, w1 = w + (long)(o + Math.Min(1, valid - 1)) * n,
                    w2 = w + (long)(o + Math.Min(2, valid - 1)) * n, w3 = w + (long)(o + Math.Min(3, valid - 1)) * n;
                for (int r0 = block; r0 < blockEnd; r0 += 4)
                {
                    var next = (uint*)(w + (long)PrefetchRow(o, r0 - block, t.Out) * n);
                    TileBf16<TIsa, TVector>((uint*)w0, (uint*)w1, (uint*)w2, (uint*)w3, x + (long)r0 * n, n, next, sums);
                    StoreTile(t, sums, r0, Math.Min(4, validRows - r0), o, valid, true);
                }
            }
        }
    }

    // A tile's sums (+ bias) into the target's fp32 result, without padding rows or repeated outputs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreTile(Target t, Vector128<float>* sums, int r0, int rows, int o, int valid, bool bf16)
    {
        var bias = Vector128<float>.Zero;
        if (t.Bias is not null)
            for (int j = 0; j < valid; j++)
                bias = bias.WithElement(j, bf16 ? Bf16ToFloat(((ushort*)t.Bias)[o + j]) : ((float*)t.Bias)[o + j]);
        for (int r = 0; r < rows; r++)
        {
            var value = sums[r] + bias;
            float* y = t.Y + (long)(r0 + r) * t.Out + o;
            if (valid == 4) value.Store(y);
            else for (int j = 0; j < valid; j++) y[j] = value.GetElement(j);
        }
    }

    /// <summary>fp32 values into a tensor's memory: copied, or rounded to bf16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Store(float* source, void* target, int n, bool bf16)
    {
        if (!bf16)
        {
            Buffer.MemoryCopy(source, target, (long)n * 4, (long)n * 4);
            return;
        }
        for (int i = 0; i < n; i++) ((ushort*)target)[i] = FloatToBf16(source[i]);
    }

    /// <summary>n bf16 values widened to fp32 (exact: a bf16 is the high half of an fp32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WidenBf16(void* source, float* target, int n)
    {
        var bits = (ushort*)source;
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var pairs = Vector128.Load(bits + i);
                Vector128.ShiftLeft(Vector128.WidenLower(pairs), 16).AsSingle().Store(target + i);
                Vector128.ShiftLeft(Vector128.WidenUpper(pairs), 16).AsSingle().Store(target + i + 4);
            }
        for (; i < n; i++) target[i] = Bf16ToFloat(bits[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bf16ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    // Round to nearest even, as c10::BFloat16 does; NaN stays NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FloatToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return 0x7FC0;
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    [ThreadStatic] static GrowableBuffer _input, _tileInput;

    // Per calling thread: bf16 input rows widened to fp32 with their fp32 result (Linear), and the tiles' copy of the input (Run).
    static float* Scratch(int length) => _input.Get(length);

    static float* TileScratch(int length) => _tileInput.Get(length);
}
