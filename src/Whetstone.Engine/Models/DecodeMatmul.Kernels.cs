using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Whetstone.Engine.Models;

// The inner kernels of DecodeMatmul, generic over the vector width: a 4×4 register tile (fp32 and
// bf16 weights) and the streaming dot products of up to 4 rows.
internal static unsafe partial class DecodeMatmul
{
    // sums[r] = (w0·x_r, w1·x_r, w2·x_r, w3·x_r) for the 4 input rows x_r (n apart). Meanwhile one
    // weight row of a tile PrefetchGroups ahead is prefetched into L2 (each of the 4 passes over
    // this tile's rows fetches one): the weights come from memory, and without it the first pass
    // over every tile waits for them instead of overlapping the fetch with arithmetic.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileF32<TIsa, TVector>(float* w0, float* w1, float* w2, float* w3, float* x, int n, float* next, Vector128<float>* sums)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        if (!TIsa.HasThirtyTwoRegisters)
        {
            // 16 registers: two passes of 2 weight rows × 4 input rows (8 accumulators each); the
            // second pass finds the input rows in L1.
            HalfTileF32<TIsa, TVector>(w0, w1, x, n, next, out var a01, out var a23);
            HalfTileF32<TIsa, TVector>(w2, w3, x, n, next, out var b01, out var b23);
            Interleave(a01, a23, b01, b23, sums);
            return;
        }
        TVector c00 = default, c10 = default, c20 = default, c30 = default, c01 = default, c11 = default, c21 = default, c31 = default,
            c02 = default, c12 = default, c22 = default, c32 = default, c03 = default, c13 = default, c23 = default, c33 = default;
        float* x0 = x, x1 = x + n, x2 = x + 2 * n, x3 = x + 3 * n;
        for (int k = 0; k < n; k += TIsa.Count)
        {
            TIsa.Prefetch(next + k);
            var a0 = TIsa.Load(w0 + k);
            var a1 = TIsa.Load(w1 + k);
            var a2 = TIsa.Load(w2 + k);
            var a3 = TIsa.Load(w3 + k);
            var b = TIsa.Load(x0 + k);
            c00 = TIsa.MultiplyAdd(a0, b, c00); c10 = TIsa.MultiplyAdd(a1, b, c10);
            c20 = TIsa.MultiplyAdd(a2, b, c20); c30 = TIsa.MultiplyAdd(a3, b, c30);
            b = TIsa.Load(x1 + k);
            c01 = TIsa.MultiplyAdd(a0, b, c01); c11 = TIsa.MultiplyAdd(a1, b, c11);
            c21 = TIsa.MultiplyAdd(a2, b, c21); c31 = TIsa.MultiplyAdd(a3, b, c31);
            b = TIsa.Load(x2 + k);
            c02 = TIsa.MultiplyAdd(a0, b, c02); c12 = TIsa.MultiplyAdd(a1, b, c12);
            c22 = TIsa.MultiplyAdd(a2, b, c22); c32 = TIsa.MultiplyAdd(a3, b, c32);
            b = TIsa.Load(x3 + k);
            c03 = TIsa.MultiplyAdd(a0, b, c03); c13 = TIsa.MultiplyAdd(a1, b, c13);
            c23 = TIsa.MultiplyAdd(a2, b, c23); c33 = TIsa.MultiplyAdd(a3, b, c33);
        }
        sums[0] = TIsa.Sum4(c00, c10, c20, c30);
        sums[1] = TIsa.Sum4(c01, c11, c21, c31);
        sums[2] = TIsa.Sum4(c02, c12, c22, c32);
        sums[3] = TIsa.Sum4(c03, c13, c23, c33);
    }

    // (w0·x0, w1·x0, w0·x1, w1·x1) and the same for x2, x3.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void HalfTileF32<TIsa, TVector>(float* w0, float* w1, float* x, int n, float* next, out Vector128<float> rows01, out Vector128<float> rows23)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        TVector c00 = default, c10 = default, c01 = default, c11 = default, c02 = default, c12 = default, c03 = default, c13 = default;
        float* x0 = x, x1 = x + n, x2 = x + 2 * n, x3 = x + 3 * n;
        for (int k = 0; k < n; k += TIsa.Count)
        {
            TIsa.Prefetch(next + k);
            var a0 = TIsa.Load(w0 + k);
            var a1 = TIsa.Load(w1 + k);
            var b = TIsa.Load(x0 + k);
            c00 = TIsa.MultiplyAdd(a0, b, c00); c10 = TIsa.MultiplyAdd(a1, b, c10);
            b = TIsa.Load(x1 + k);
            c01 = TIsa.MultiplyAdd(a0, b, c01); c11 = TIsa.MultiplyAdd(a1, b, c11);
            b = TIsa.Load(x2 + k);
            c02 = TIsa.MultiplyAdd(a0, b, c02); c12 = TIsa.MultiplyAdd(a1, b, c12);
            b = TIsa.Load(x3 + k);
            c03 = TIsa.MultiplyAdd(a0, b, c03); c13 = TIsa.MultiplyAdd(a1, b, c13);
        }
        rows01 = TIsa.Sum4(c00, c10, c01, c11);
        rows23 = TIsa.Sum4(c02, c12, c03, c13);
    }

    // Two half tiles (outputs 0–1 and 2–3, rows paired) into sums[r] = outputs 0–3 of row r.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Interleave(Vector128<float> a01, Vector128<float> a23, Vector128<float> b01, Vector128<float> b23, Vector128<float>* sums)
    {
        sums[0] = Vector128.Create(a01.GetLower(), b01.GetLower());
        sums[1] = Vector128.Create(a01.GetUpper(), b01.GetUpper());
        sums[2] = Vector128.Create(a23.GetLower(), b23.GetLower());
        sums[3] = Vector128.Create(a23.GetUpper(), b23.GetUpper());
    }

    // As TileF32 over bf16 weights read 2·Count at a time as 32-bit pairs: the even element is the
    // low half shifted up and the odd one the high half masked — one integer op per Count weights
    // instead of a widening shuffle and a shift; the input rows come split into even and odd (TileInput).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileBf16<TIsa, TVector>(uint* w0, uint* w1, uint* w2, uint* w3, float* x, int n, uint* next, Vector128<float>* sums)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        if (!TIsa.HasThirtyTwoRegisters)
        {
            HalfTileBf16<TIsa, TVector>(w0, w1, x, n, next, out var a01, out var a23);
            HalfTileBf16<TIsa, TVector>(w2, w3, x, n, next, out var b01, out var b23);
            Interleave(a01, a23, b01, b23, sums);
            return;
        }
        TVector c00 = default, c10 = default, c20 = default, c30 = default, c01 = default, c11 = default, c21 = default, c31 = default,
            c02 = default, c12 = default, c22 = default, c32 = default, c03 = default, c13 = default, c23 = default, c33 = default;
        float* x0 = x, x1 = x + n, x2 = x + 2 * n, x3 = x + 3 * n;
        int width = TIsa.Count;
        for (int k = 0; k < n; k += 2 * width)
        {
            TIsa.Prefetch(next + k / 2);
            var p0 = TIsa.Load((float*)(w0 + k / 2));
            var p1 = TIsa.Load((float*)(w1 + k / 2));
            var p2 = TIsa.Load((float*)(w2 + k / 2));
            var p3 = TIsa.Load((float*)(w3 + k / 2));
            var a0 = TIsa.EvenBf16(p0);
            var a1 = TIsa.EvenBf16(p1);
            var a2 = TIsa.EvenBf16(p2);
            var a3 = TIsa.EvenBf16(p3);
            var b = TIsa.Load(x0 + k);
            c00 = TIsa.MultiplyAdd(a0, b, c00); c10 = TIsa.MultiplyAdd(a1, b, c10);
            c20 = TIsa.MultiplyAdd(a2, b, c20); c30 = TIsa.MultiplyAdd(a3, b, c30);
            b = TIsa.Load(x1 + k);
            c01 = TIsa.MultiplyAdd(a0, b, c01); c11 = TIsa.MultiplyAdd(a1, b, c11);
            c21 = TIsa.MultiplyAdd(a2, b, c21); c31 = TIsa.MultiplyAdd(a3, b, c31);
            b = TIsa.Load(x2 + k);
            c02 = TIsa.MultiplyAdd(a0, b, c02); c12 = TIsa.MultiplyAdd(a1, b, c12);
            c22 = TIsa.MultiplyAdd(a2, b, c22); c32 = TIsa.MultiplyAdd(a3, b, c32);
            b = TIsa.Load(x3 + k);
            c03 = TIsa.MultiplyAdd(a0, b, c03); c13 = TIsa.MultiplyAdd(a1, b, c13);
            c23 = TIsa.MultiplyAdd(a2, b, c23); c33 = TIsa.MultiplyAdd(a3, b, c33);
            a0 = TIsa.OddBf16(p0);
            a1 = TIsa.OddBf16(p1);
            a2 = TIsa.OddBf16(p2);
            a3 = TIsa.OddBf16(p3);
            b = TIsa.Load(x0 + k + width);
            c00 = TIsa.MultiplyAdd(a0, b, c00); c10 = TIsa.MultiplyAdd(a1, b, c10);
            c20 = TIsa.MultiplyAdd(a2, b, c20); c30 = TIsa.MultiplyAdd(a3, b, c30);
            b = TIsa.Load(x1 + k + width);
            c01 = TIsa.MultiplyAdd(a0, b, c01); c11 = TIsa.MultiplyAdd(a1, b, c11);
            c21 = TIsa.MultiplyAdd(a2, b, c21); c31 = TIsa.MultiplyAdd(a3, b, c31);
            b = TIsa.Load(x2 + k + width);
            c02 = TIsa.MultiplyAdd(a0, b, c02); c12 = TIsa.MultiplyAdd(a1, b, c12);
            c22 = TIsa.MultiplyAdd(a2, b, c22); c32 = TIsa.MultiplyAdd(a3, b, c32);
            b = TIsa.Load(x3 + k + width);
            c03 = TIsa.MultiplyAdd(a0, b, c03); c13 = TIsa.MultiplyAdd(a1, b, c13);
            c23 = TIsa.MultiplyAdd(a2, b, c23); c33 = TIsa.MultiplyAdd(a3, b, c33);
        }
        sums[0] = TIsa.Sum4(c00, c10, c20, c30);
        sums[1] = TIsa.Sum4(c01, c11, c21, c31);
        sums[2] = TIsa.Sum4(c02, c12, c22, c32);
        sums[3] = TIsa.Sum4(c03, c13, c23, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void HalfTileBf16<TIsa, TVector>(uint* w0, uint* w1, float* x, int n, uint* next, out Vector128<float> rows01, out Vector128<float> rows23)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        TVector c00 = default, c10 = default, c01 = default, c11 = default, c02 = default, c12 = default, c03 = default, c13 = default;
        float* x0 = x, x1 = x + n, x2 = x + 2 * n, x3 = x + 3 * n;
        int width = TIsa.Count;
        for (int k = 0; k < n; k += 2 * width)
        {
            TIsa.Prefetch(next + k / 2);
            var p0 = TIsa.Load((float*)(w0 + k / 2));
            var p1 = TIsa.Load((float*)(w1 + k / 2));
            var a0 = TIsa.EvenBf16(p0);
            var a1 = TIsa.EvenBf16(p1);
            var b = TIsa.Load(x0 + k);
            c00 = TIsa.MultiplyAdd(a0, b, c00); c10 = TIsa.MultiplyAdd(a1, b, c10);
            b = TIsa.Load(x1 + k);
            c01 = TIsa.MultiplyAdd(a0, b, c01); c11 = TIsa.MultiplyAdd(a1, b, c11);
            b = TIsa.Load(x2 + k);
            c02 = TIsa.MultiplyAdd(a0, b, c02); c12 = TIsa.MultiplyAdd(a1, b, c12);
            b = TIsa.Load(x3 + k);
            c03 = TIsa.MultiplyAdd(a0, b, c03); c13 = TIsa.MultiplyAdd(a1, b, c13);
            a0 = TIsa.OddBf16(p0);
            a1 = TIsa.OddBf16(p1);
            b = TIsa.Load(x0 + k + width);
            c00 = TIsa.MultiplyAdd(a0, b, c00); c10 = TIsa.MultiplyAdd(a1, b, c10);
            b = TIsa.Load(x1 + k + width);
            c01 = TIsa.MultiplyAdd(a0, b, c01); c11 = TIsa.MultiplyAdd(a1, b, c11);
            b = TIsa.Load(x2 + k + width);
            c02 = TIsa.MultiplyAdd(a0, b, c02); c12 = TIsa.MultiplyAdd(a1, b, c12);
            b = TIsa.Load(x3 + k + width);
            c03 = TIsa.MultiplyAdd(a0, b, c03); c13 = TIsa.MultiplyAdd(a1, b, c13);
        }
        rows01 = TIsa.Sum4(c00, c10, c01, c11);
        rows23 = TIsa.Sum4(c02, c12, c03, c13);
    }

    // w · x_r for r < block (x rows n apart); w fp32 or bf16 (TWeights says how to load it).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Dot<TIsa, TVector, TWeights, TElement>(TElement* w, float* x, int n, int block, float* sums)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
        where TWeights : IWeightElement<TElement> where TElement : unmanaged
    {
        int width = TIsa.Count, vectorEnd = n - n % width;
        if (block == 1)
        {
            // Four independent sums hide the FMA latency.
            TVector a0 = default, a1 = default, a2 = default, a3 = default;
            int i = 0;
            for (; i + 4 * width <= n; i += 4 * width)
            {
                a0 = TIsa.MultiplyAdd(TWeights.Load<TIsa, TVector>(w + i), TIsa.Load(x + i), a0);
                a1 = TIsa.MultiplyAdd(TWeights.Load<TIsa, TVector>(w + i + width), TIsa.Load(x + i + width), a1);
                a2 = TIsa.MultiplyAdd(TWeights.Load<TIsa, TVector>(w + i + 2 * width), TIsa.Load(x + i + 2 * width), a2);
                a3 = TIsa.MultiplyAdd(TWeights.Load<TIsa, TVector>(w + i + 3 * width), TIsa.Load(x + i + 3 * width), a3);
            }
            for (; i < vectorEnd; i += width) a0 = TIsa.MultiplyAdd(TWeights.Load<TIsa, TVector>(w + i), TIsa.Load(x + i), a0);
            float s = TIsa.Sum(TIsa.Add(TIsa.Add(a0, a1), TIsa.Add(a2, a3)));
            for (; i < n; i++) s += TWeights.ToFloat(w[i]) * x[i];
            sums[0] = s;
            return;
        }
        TVector s0 = default, s1 = default, s2 = default, s3 = default;
        int j = 0;
        for (; j < vectorEnd; j += width)
        {
            var wv = TWeights.Load<TIsa, TVector>(w + j);
            s0 = TIsa.MultiplyAdd(wv, TIsa.Load(x + j), s0);
            s1 = TIsa.MultiplyAdd(wv, TIsa.Load(x + n + j), s1);
            if (block > 2) s2 = TIsa.MultiplyAdd(wv, TIsa.Load(x + 2 * n + j), s2);
            if (block > 3) s3 = TIsa.MultiplyAdd(wv, TIsa.Load(x + 3 * n + j), s3);
        }
        sums[0] = TIsa.Sum(s0); sums[1] = TIsa.Sum(s1); sums[2] = TIsa.Sum(s2); sums[3] = TIsa.Sum(s3);
        for (; j < n; j++)
            for (int r = 0; r < block; r++) sums[r] += TWeights.ToFloat(w[j]) * x[r * n + j];
    }
}
