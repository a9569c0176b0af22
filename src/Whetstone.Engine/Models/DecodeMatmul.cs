using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Whetstone.Engine.Formats;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>y = x·Wᵀ (+ b) for the 1–16 rows of a decode step, written out with AVX-512. At up to 4
/// rows a step is little else than reading every weight once, and libtorch's matrix-vector
/// products leave most of the memory bandwidth unused (fp32 GEMV on one thread, bf16 at about half
/// of streaming speed): each weight row is streamed once for all rows. Past 4 rows the product is
/// compute-bound and libtorch's small-M GEMMs run at ~half of this CPU's FMA peak (MKL fp32) or
/// repack the weights every call (oneDNN bf16): register tiles of 4 weight rows × 4 input rows use
/// every loaded vector 4 times, prefetching the weights of a later tile. Weights stay in their
/// stored dtype; bf16 is widened to fp32 in registers, products are summed in fp32 and a bf16
/// result is rounded once, to nearest even, as libtorch does. Output rows are shared among all cores.
/// Used only without autograd, on the CPU, for fp32 or bf16; everything else (and any CPU
/// without AVX-512F/BW, probed at start-up) goes to torch. Hot methods skip tiered JIT
/// (AggressiveOptimization): unoptimised tier-0 vector code is many times slower, and a short
/// decode would run in it before the promotion.</summary>
internal static unsafe class DecodeMatmul
{
    /// <summary>Most rows of a decode step the kernels take (more go to torch). WHET_DECODE_KERNEL_ROWS overrides it, to compare.</summary>
    public static int MaxRows { get; set; } =
        int.TryParse(Environment.GetEnvironmentVariable("WHET_DECODE_KERNEL_ROWS"), out int rows) ? rows : 16;

    /// <summary>Most rows of an fp32 product (a prefill's projections) the tiles take: they beat
    /// MKL's fp32 GEMM at these shapes too (30m prefill of 256 tokens +12%, bench --peer). Not bf16,
    /// where oneDNN's AVX512-BF16 dot products do twice the work per instruction.</summary>
    public static int MaxFp32Rows { get; set; } = 256;

    // Rows per block of a large product: 64 rows of up to 2,304 fp32 inputs stay in L2.
    const int RowBlock = 64;

    // Up to this many rows each weight row is streamed once for all of them (bandwidth-bound);
    // past it, tiles reuse loaded weights and inputs (compute-bound). Tiles measured no faster at
    // 2 or 4 rows (bench --kernel-ab --streams=2,4).
    const int StreamingRows = 4;

    // How many tiles ahead the tiles prefetch weights (120m, 16 rows: 0 → 1 tile ahead +15%,
    // 2 ahead another ~0–5%, 4 ahead worse again).
    const int PrefetchGroups = 2;

    /// <summary>Whether this CPU runs the kernel; WHET_DECODE_KERNEL=0 turns it off (to compare).</summary>
    public static readonly bool IsSupported =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported
        && Environment.GetEnvironmentVariable("WHET_DECODE_KERNEL") != "0";

    // Output rows per work item: enough to amortise taking one, small enough to balance the cores
    // when other processes share them.
    const int RowsPerChunk = 64;

    /// <summary>Whether <see cref="Linear"/> takes this product (else call torch).</summary>
    public static bool Applies(Tensor x, Tensor weight)
    {
        if (!IsSupported || is_grad_enabled()) return false;
        var dtype = weight.dtype;
        if (dtype != ScalarType.Float32 && dtype != ScalarType.BFloat16) return false;
        if (x.dtype != dtype || x.device_type != TorchSharp.DeviceType.CPU) return false;
        long inFeatures = weight.shape[1];
        if (x.dim() == 0 || x.shape[^1] != inFeatures || inFeatures > int.MaxValue || !weight.is_contiguous()) return false;
        long rows = x.numel() / Math.Max(1, inFeatures);
        // Past the streaming rows only the tiles beat torch; they need 16 (fp32) or 32 (bf16) wide rows.
        if (rows > StreamingRows && inFeatures % (dtype == ScalarType.BFloat16 ? 32 : 16) != 0) return false;
        return rows >= 1 && (rows <= MaxRows || (dtype == ScalarType.Float32 && rows <= MaxFp32Rows));
    }

    /// <summary>x: [.., in], weight: [out, in] contiguous, bias: [out] or null; all one dtype.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        int inFeatures = (int)weight.shape[1], outFeatures = (int)weight.shape[0];
        var input = x.is_contiguous() ? x : x.contiguous();
        int rows = (int)(input.numel() / inFeatures);
        var shape = x.shape.ToArray();
        shape[^1] = outFeatures;
        var y = empty(shape, weight.dtype);
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
        WidenBf16((ushort*)xPointer, xs, rows * inFeatures);
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
    /// up — in one parallel pass, so the cores are woken once for all of them.</summary>
    public static void Run(Target[] targets, float* x, int rows, int inFeatures, bool bf16)
    {
        // Past a few rows the product is compute-bound: tiles of 4 outputs × 4 rows use each
        // loaded weight vector 4 times and each input vector 4 times (other widths stream).
        bool tiled = rows > StreamingRows && inFeatures % (bf16 ? 32 : 16) == 0;
        int validRows = rows;
        if (tiled)
        {
            x = TileInput(x, rows, inFeatures, bf16);
            rows = (rows + 3) & ~3;
        }
        int chunks = 0;
        foreach (var t in targets) chunks += (t.Out + RowsPerChunk - 1) / RowsPerChunk;
        if (chunks == 1 || Environment.ProcessorCount == 1)
        {
            foreach (var t in targets) Outputs(t, x, rows, validRows, inFeatures, bf16, tiled, 0, t.Out);
            return;
        }
        Parallel.For(0, chunks, chunk =>
        {
            foreach (var t in targets)
            {
                int own = (t.Out + RowsPerChunk - 1) / RowsPerChunk;
                if (chunk < own)
                {
                    Outputs(t, x, rows, validRows, inFeatures, bf16, tiled, chunk * RowsPerChunk, Math.Min(t.Out, (chunk + 1) * RowsPerChunk));
                    return;
                }
                chunk -= own;
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Outputs(Target t, float* x, int rows, int validRows, int n, bool bf16, bool tiled, int first, int end)
    {
        if (!tiled) Rows(t, x, rows, n, bf16, first, end);
        else if (bf16) TilesBf16(t, x, rows, validRows, n, first, end);
        else TilesF32(t, x, rows, validRows, n, first, end);
    }

    // Outputs [first, end) of one target, one weight row at a time: at a few input rows the
    // product is bound by reading the weights, which this streams once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Rows(Target t, float* x, int rows, int n, bool bf16, int first, int end)
    {
        var sums = stackalloc float[4];
        for (int o = first; o < end; o++)
        {
            float b = t.Bias is null ? 0 : bf16 ? Bf16ToFloat(((ushort*)t.Bias)[o]) : ((float*)t.Bias)[o];
            for (int r0 = 0; r0 < rows; r0 += 4)
            {
                int block = Math.Min(4, rows - r0);
                if (bf16) DotBf16((ushort*)t.Weight + (long)o * n, x + (long)r0 * n, n, block, sums);
                else DotF32((float*)t.Weight + (long)o * n, x + (long)r0 * n, n, block, sums);
                for (int r = 0; r < block; r++) t.Y[(long)(r0 + r) * t.Out + o] = sums[r] + b;
            }
        }
    }

    // The input rows as the tiles read them: padded with zero rows to a multiple of 4, and for bf16
    // weights each 32-wide block split into its 16 even then its 16 odd elements, matching how a
    // 32-bit lane of packed bf16 weights unpacks (low half = even element, high half = odd one).
    static float* TileInput(float* x, int rows, int n, bool bf16)
    {
        int padded = (rows + 3) & ~3;
        float* tiles = TileScratch(padded * n);
        if (bf16)
        {
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < n; k += 32)
                {
                    float* source = x + (long)r * n + k, target = tiles + (long)r * n + k;
                    for (int i = 0; i < 16; i++)
                    {
                        target[i] = source[2 * i];
                        target[16 + i] = source[2 * i + 1];
                    }
                }
        }
        else Buffer.MemoryCopy(x, tiles, (long)rows * n * 4, (long)rows * n * 4);
        new Span<float>(tiles + (long)rows * n, (padded - rows) * n).Clear();
        return tiles;
    }

    // Outputs [first, end) for all (padded) rows in tiles of 4 weight rows × 4 input rows; a last
    // tile with fewer than 4 outputs repeats its last weight row and drops the copies.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TilesF32(Target t, float* x, int rows, int validRows, int n, int first, int end)
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
                    TileF32(w0, w1, w2, w3, x + (long)r0 * n, n, PrefetchRow(w, n, o, r0 - block, t.Out), sums);
                    StoreTile(t, sums, r0, Math.Min(4, validRows - r0), o, valid, false);
                }
            }
        }
    }

    // The weight row the pass'th pass over a tile prefetches: the first 4 passes fetch the 4 rows of
    // the tile PrefetchGroups ahead; later passes (prefill blocks) re-touch one already fetched.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float* PrefetchRow(float* w, int n, int o, int rowInBlock, int outFeatures) =>
        w + (long)Math.Min(o + 4 * PrefetchGroups + Math.Min(rowInBlock / 4, 3), outFeatures - 1) * n;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TilesBf16(Target t, float* x, int rows, int validRows, int n, int first, int end)
    {
        var sums = stackalloc Vector128<float>[4];
        ushort* w = (ushort*)t.Weight;
        for (int o = first; o < end; o += 4)
        {
            int valid = Math.Min(4, end - o);
            ushort* w0 = w + (long)o * n, w1 = w + (long)(o + Math.Min(1, valid - 1)) * n,
                w2 = w + (long)(o + Math.Min(2, valid - 1)) * n, w3 = w + (long)(o + Math.Min(3, valid - 1)) * n;
            for (int r0 = 0; r0 < rows; r0 += 4)
            {
                TileBf16((uint*)w0, (uint*)w1, (uint*)w2, (uint*)w3, x + (long)r0 * n, n, (uint*)(w + (long)Math.Min(o + 4 * PrefetchGroups + r0 / 4, t.Out - 1) * n), sums);
                StoreTile(t, sums, r0, Math.Min(4, validRows - r0), o, valid, true);
            }
        }
    }

    // As TileF32 over bf16 weights read 32 at a time as 32-bit pairs: the even element is the low
    // half shifted up and the odd one the high half masked — one integer op per 16 weights instead
    // of a widening shuffle and a shift; the input rows come split into even and odd (TileInput).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileBf16(uint* w0, uint* w1, uint* w2, uint* w3, float* x, int n, uint* next, Vector128<float>* sums)
    {
        Vector512<float> c00 = default, c10 = default, c20 = default, c30 = default, c01 = default, c11 = default, c21 = default, c31 = default,
            c02 = default, c12 = default, c22 = default, c32 = default, c03 = default, c13 = default, c23 = default, c33 = default;
        var high = Vector512.Create(0xFFFF0000u);
        float* x0 = x, x1 = x + n, x2 = x + 2 * n, x3 = x + 3 * n;
        for (int k = 0; k < n; k += 32)
        {
            Sse.Prefetch1(next + k / 2);
            var p0 = Vector512.Load(w0 + k / 2);
            var p1 = Vector512.Load(w1 + k / 2);
            var p2 = Vector512.Load(w2 + k / 2);
            var p3 = Vector512.Load(w3 + k / 2);
            var a0 = Avx512F.ShiftLeftLogical(p0, 16).AsSingle();
            var a1 = Avx512F.ShiftLeftLogical(p1, 16).AsSingle();
            var a2 = Avx512F.ShiftLeftLogical(p2, 16).AsSingle();
            var a3 = Avx512F.ShiftLeftLogical(p3, 16).AsSingle();
            var b = Vector512.Load(x0 + k);
            c00 = Avx512F.FusedMultiplyAdd(a0, b, c00); c10 = Avx512F.FusedMultiplyAdd(a1, b, c10);
            c20 = Avx512F.FusedMultiplyAdd(a2, b, c20); c30 = Avx512F.FusedMultiplyAdd(a3, b, c30);
            b = Vector512.Load(x1 + k);
            c01 = Avx512F.FusedMultiplyAdd(a0, b, c01); c11 = Avx512F.FusedMultiplyAdd(a1, b, c11);
            c21 = Avx512F.FusedMultiplyAdd(a2, b, c21); c31 = Avx512F.FusedMultiplyAdd(a3, b, c31);
            b = Vector512.Load(x2 + k);
            c02 = Avx512F.FusedMultiplyAdd(a0, b, c02); c12 = Avx512F.FusedMultiplyAdd(a1, b, c12);
            c22 = Avx512F.FusedMultiplyAdd(a2, b, c22); c32 = Avx512F.FusedMultiplyAdd(a3, b, c32);
            b = Vector512.Load(x3 + k);
            c03 = Avx512F.FusedMultiplyAdd(a0, b, c03); c13 = Avx512F.FusedMultiplyAdd(a1, b, c13);
            c23 = Avx512F.FusedMultiplyAdd(a2, b, c23); c33 = Avx512F.FusedMultiplyAdd(a3, b, c33);
            a0 = (p0 & high).AsSingle();
            a1 = (p1 & high).AsSingle();
            a2 = (p2 & high).AsSingle();
            a3 = (p3 & high).AsSingle();
            b = Vector512.Load(x0 + k + 16);
            c00 = Avx512F.FusedMultiplyAdd(a0, b, c00); c10 = Avx512F.FusedMultiplyAdd(a1, b, c10);
            c20 = Avx512F.FusedMultiplyAdd(a2, b, c20); c30 = Avx512F.FusedMultiplyAdd(a3, b, c30);
            b = Vector512.Load(x1 + k + 16);
            c01 = Avx512F.FusedMultiplyAdd(a0, b, c01); c11 = Avx512F.FusedMultiplyAdd(a1, b, c11);
            c21 = Avx512F.FusedMultiplyAdd(a2, b, c21); c31 = Avx512F.FusedMultiplyAdd(a3, b, c31);
            b = Vector512.Load(x2 + k + 16);
            c02 = Avx512F.FusedMultiplyAdd(a0, b, c02); c12 = Avx512F.FusedMultiplyAdd(a1, b, c12);
            c22 = Avx512F.FusedMultiplyAdd(a2, b, c22); c32 = Avx512F.FusedMultiplyAdd(a3, b, c32);
            b = Vector512.Load(x3 + k + 16);
            c03 = Avx512F.FusedMultiplyAdd(a0, b, c03); c13 = Avx512F.FusedMultiplyAdd(a1, b, c13);
            c23 = Avx512F.FusedMultiplyAdd(a2, b, c23); c33 = Avx512F.FusedMultiplyAdd(a3, b, c33);
        }
        sums[0] = Reduce4(c00, c10, c20, c30);
        sums[1] = Reduce4(c01, c11, c21, c31);
        sums[2] = Reduce4(c02, c12, c22, c32);
        sums[3] = Reduce4(c03, c13, c23, c33);
    }

    // sums[r] = (w0·x_r, w1·x_r, w2·x_r, w3·x_r) for the 4 input rows x_r (n apart). Meanwhile one
    // weight row of a tile PrefetchGroups ahead is prefetched into L2 (each of the 4 passes over
    // this tile's rows fetches one): the weights come from memory, and without it the first pass
    // over every tile waits for them instead of overlapping the fetch with earlier arithmetic.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileF32(float* w0, float* w1, float* w2, float* w3, float* x, int n, float* next, Vector128<float>* sums)
    {
        Vector512<float> c00 = default, c10 = default, c20 = default, c30 = default, c01 = default, c11 = default, c21 = default, c31 = default,
            c02 = default, c12 = default, c22 = default, c32 = default, c03 = default, c13 = default, c23 = default, c33 = default;
        float* x0 = x, x1 = x + n, x2 = x + 2 * n, x3 = x + 3 * n;
        for (int k = 0; k < n; k += 16)
        {
            Sse.Prefetch1(next + k);
            var a0 = Vector512.Load(w0 + k);
            var a1 = Vector512.Load(w1 + k);
            var a2 = Vector512.Load(w2 + k);
            var a3 = Vector512.Load(w3 + k);
            var b = Vector512.Load(x0 + k);
            c00 = Avx512F.FusedMultiplyAdd(a0, b, c00); c10 = Avx512F.FusedMultiplyAdd(a1, b, c10);
            c20 = Avx512F.FusedMultiplyAdd(a2, b, c20); c30 = Avx512F.FusedMultiplyAdd(a3, b, c30);
            b = Vector512.Load(x1 + k);
            c01 = Avx512F.FusedMultiplyAdd(a0, b, c01); c11 = Avx512F.FusedMultiplyAdd(a1, b, c11);
            c21 = Avx512F.FusedMultiplyAdd(a2, b, c21); c31 = Avx512F.FusedMultiplyAdd(a3, b, c31);
            b = Vector512.Load(x2 + k);
            c02 = Avx512F.FusedMultiplyAdd(a0, b, c02); c12 = Avx512F.FusedMultiplyAdd(a1, b, c12);
            c22 = Avx512F.FusedMultiplyAdd(a2, b, c22); c32 = Avx512F.FusedMultiplyAdd(a3, b, c32);
            b = Vector512.Load(x3 + k);
            c03 = Avx512F.FusedMultiplyAdd(a0, b, c03); c13 = Avx512F.FusedMultiplyAdd(a1, b, c13);
            c23 = Avx512F.FusedMultiplyAdd(a2, b, c23); c33 = Avx512F.FusedMultiplyAdd(a3, b, c33);
        }
        sums[0] = Reduce4(c00, c10, c20, c30);
        sums[1] = Reduce4(c01, c11, c21, c31);
        sums[2] = Reduce4(c02, c12, c22, c32);
        sums[3] = Reduce4(c03, c13, c23, c33);
    }

    // (Σc0, Σc1, Σc2, Σc3), the shuffles shared among the four sums.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Reduce4(Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3)
    {
        // Per 128-bit lane: c0 and c1 (and c2 and c3) folded to two partial sums each...
        var s01 = Avx512F.UnpackLow(c0, c1) + Avx512F.UnpackHigh(c0, c1);
        var s23 = Avx512F.UnpackLow(c2, c3) + Avx512F.UnpackHigh(c2, c3);
        // ...then (c0, c1, c2, c3) in every lane, and the four lanes added.
        var s = Avx512F.Shuffle(s01, s23, 0b01_00_01_00) + Avx512F.Shuffle(s01, s23, 0b11_10_11_10);
        var half = s.GetLower() + s.GetUpper();
        return half.GetLower() + half.GetUpper();
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

    // w · x_r for r < block (x rows n apart).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotF32(float* w, float* x, int n, int block, float* sums)
    {
        int vectorEnd = n & ~15;
        if (block == 1)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int i = 0;
            for (; i + 64 <= n; i += 64)
            {
                a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(w + i), Vector512.Load(x + i), a0);
                a1 = Avx512F.FusedMultiplyAdd(Vector512.Load(w + i + 16), Vector512.Load(x + i + 16), a1);
                a2 = Avx512F.FusedMultiplyAdd(Vector512.Load(w + i + 32), Vector512.Load(x + i + 32), a2);
                a3 = Avx512F.FusedMultiplyAdd(Vector512.Load(w + i + 48), Vector512.Load(x + i + 48), a3);
            }
            for (; i < vectorEnd; i += 16) a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(w + i), Vector512.Load(x + i), a0);
            float s = Vector512.Sum((a0 + a1) + (a2 + a3));
            for (; i < n; i++) s += w[i] * x[i];
            sums[0] = s;
            return;
        }
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int j = 0;
        for (; j < vectorEnd; j += 16)
        {
            var wv = Vector512.Load(w + j);
            s0 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + j), s0);
            s1 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + n + j), s1);
            if (block > 2) s2 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 2 * n + j), s2);
            if (block > 3) s3 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 3 * n + j), s3);
        }
        sums[0] = Vector512.Sum(s0); sums[1] = Vector512.Sum(s1); sums[2] = Vector512.Sum(s2); sums[3] = Vector512.Sum(s3);
        for (; j < n; j++)
            for (int r = 0; r < block; r++) sums[r] += w[j] * x[r * n + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotBf16(ushort* w, float* x, int n, int block, float* sums)
    {
        int vectorEnd = n & ~31;
        if (block == 1)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int i = 0;
            for (; i + 64 <= n; i += 64)
            {
                a0 = Avx512F.FusedMultiplyAdd(Widen(w + i), Vector512.Load(x + i), a0);
                a1 = Avx512F.FusedMultiplyAdd(Widen(w + i + 16), Vector512.Load(x + i + 16), a1);
                a2 = Avx512F.FusedMultiplyAdd(Widen(w + i + 32), Vector512.Load(x + i + 32), a2);
                a3 = Avx512F.FusedMultiplyAdd(Widen(w + i + 48), Vector512.Load(x + i + 48), a3);
            }
            for (; i < vectorEnd; i += 32)
            {
                a0 = Avx512F.FusedMultiplyAdd(Widen(w + i), Vector512.Load(x + i), a0);
                a1 = Avx512F.FusedMultiplyAdd(Widen(w + i + 16), Vector512.Load(x + i + 16), a1);
            }
            float s = Vector512.Sum((a0 + a1) + (a2 + a3));
            for (; i < n; i++) s += Bf16ToFloat(w[i]) * x[i];
            sums[0] = s;
            return;
        }
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int j = 0;
        for (; j < (n & ~15); j += 16)
        {
            var wv = Widen(w + j);
            s0 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + j), s0);
            s1 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + n + j), s1);
            if (block > 2) s2 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 2 * n + j), s2);
            if (block > 3) s3 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 3 * n + j), s3);
        }
        sums[0] = Vector512.Sum(s0); sums[1] = Vector512.Sum(s1); sums[2] = Vector512.Sum(s2); sums[3] = Vector512.Sum(s3);
        for (; j < n; j++)
            for (int r = 0; r < block; r++) sums[r] += Bf16ToFloat(w[j]) * x[r * n + j];
    }

    // 16 bf16 → 16 fp32: zero-extend to 32 bits and move into the high half.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(ushort* p) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(p)), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WidenBf16(ushort* source, float* target, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16) Widen(source + i).Store(target + i);
        for (; i < n; i++) target[i] = Bf16ToFloat(source[i]);
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
