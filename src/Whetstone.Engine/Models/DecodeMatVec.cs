using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Whetstone.Engine.Formats;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>y = x·Wᵀ (+ b) for the few rows of a decode step, written out with AVX-512 because
/// libtorch's matrix-vector products leave most of the memory bandwidth unused at batch 1
/// (fp32 GEMV on one thread, bf16 at about half of streaming speed), and a decode step is little
/// else than reading every weight once. Weights stay in their stored dtype; bf16 is widened to
/// fp32 in registers, products are summed in fp32 and a bf16 result is rounded once, to nearest
/// even, as libtorch does. Output rows are shared among all cores.
/// Used only without autograd, on the CPU, for fp32 or bf16; everything else (and any CPU
/// without AVX-512F/BW, probed at start-up) goes to torch. Hot methods skip tiered JIT
/// (AggressiveOptimization): unoptimised tier-0 vector code is many times slower, and a short
/// decode would run in it before the promotion.</summary>
internal static unsafe class DecodeMatVec
{
    /// <summary>Past this many rows libtorch's blocked matmul reuses weights better: measured on
    /// 30m decode (same run, kernel vs torch) 4 rows 1.2x (bf16) / 2.1x (fp32) faster with the
    /// kernel, 16 rows 2x (bf16) / 1.1x (fp32) slower (bench/RESULTS.md).</summary>
    public const int MaxRows = 4;

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
        return rows >= 1 && rows <= MaxRows;
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

        // The input rows in fp32 (widened once, not once per output row), the result in fp32.
        var xs = Scratch(rows * inFeatures + rows * outFeatures);
        var ys = xs + rows * inFeatures;
        void* xPointer = (void*)TensorMemory.DataPointer(input);
        if (bf16) WidenBf16((ushort*)xPointer, xs, rows * inFeatures);
        else Buffer.MemoryCopy(xPointer, xs, (long)rows * inFeatures * 4, (long)rows * inFeatures * 4);
        Run([new Target(weight, bias, ys)], xs, rows, inFeatures, bf16);
        Store(ys, (void*)TensorMemory.DataPointer(y), rows * outFeatures, bf16);
        return y;
    }

    /// <summary>One product of a batch: W [out, in] (+ b) in the weights' dtype, result [rows, out] in fp32.</summary>
    public readonly struct Target(void* weight, void* bias, int outFeatures, float* y)
    {
        public Target(Tensor weight, Tensor? bias, float* y)
            : this((void*)TensorMemory.DataPointer(weight), bias is null ? null : (void*)TensorMemory.DataPointer(bias), (int)weight.shape[0], y) { }

        public void* Weight { get; } = weight;
        public void* Bias { get; } = bias;
        public int Out { get; } = outFeatures;
        public float* Y { get; } = y;
    }

    /// <summary>Several products over the same input rows x ([rows, in] fp32) — q/k/v, or gate and
    /// up — in one parallel pass, so the cores are woken once for all of them.</summary>
    public static void Run(Target[] targets, float* x, int rows, int inFeatures, bool bf16)
    {
        int chunks = 0;
        foreach (var t in targets) chunks += (t.Out + RowsPerChunk - 1) / RowsPerChunk;
        if (chunks == 1 || Environment.ProcessorCount == 1)
        {
            foreach (var t in targets) Rows(t, x, rows, inFeatures, bf16, 0, t.Out);
            return;
        }
        Parallel.For(0, chunks, chunk =>
        {
            foreach (var t in targets)
            {
                int own = (t.Out + RowsPerChunk - 1) / RowsPerChunk;
                if (chunk < own)
                {
                    Rows(t, x, rows, inFeatures, bf16, chunk * RowsPerChunk, Math.Min(t.Out, (chunk + 1) * RowsPerChunk));
                    return;
                }
                chunk -= own;
            }
        });
    }

    // Output rows [first, end) of one target.
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

    [ThreadStatic] static float* _scratch;
    [ThreadStatic] static int _scratchLength;

    // Per calling thread, grown as needed and kept: the fp32 copy of the input rows.
    static float* Scratch(int length)
    {
        if (_scratchLength < length)
        {
            if (_scratch is not null) System.Runtime.InteropServices.NativeMemory.AlignedFree(_scratch);
            _scratch = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)length * 4, 64);
            _scratchLength = length;
        }
        return _scratch;
    }
}
