using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>The LoRA updates of a decode step on raw memory, for <see cref="DecodeLayerKernel"/>:
/// each row's projection output y_r gains scale·B·(A·x_r) of the row's own adapter (none for base
/// rows), as <see cref="AdapterBatch.Apply"/> does on the torch path. Per row rather than per
/// adapter: a serving step has a row or two per adapter, so many adapters cost about what one
/// does (A and B of rank r are r·(in + out) values, read from cache). Factors are read where they
/// live (fp32 or bf16, usually fp32) every step — training may have changed them since the last —
/// and the sums are fp32, where the torch path rounds the bf16 intermediates.</summary>
internal static unsafe class DecodeLowRank
{
    /// <summary>Whether every adapter's factors can be read as raw memory: CPU, fp32 or bf16, contiguous.</summary>
    public static bool Supports(AdapterBatch adapters)
    {
        foreach (var adapter in adapters.Adapters)
            if (!_readable.GetValue(adapter, a => new StrongBox<bool>(a.Weights.All(w => Factors.Of(w).Readable))).Value) return false;
        return true;
    }

    // Per adapter and per factor pair, what a step needs, read once: every TorchSharp property
    // (shape, dtype, data pointer) is a native call, and a step reads every factor of every row —
    // with 16 adapters tens of thousands of calls per step. The pointers stay valid while the
    // adapter lives: training updates its factors in place, never re-allocating them.
    static readonly ConditionalWeakTable<LoraAdapter, StrongBox<bool>> _readable = new();

    sealed class Factors
    {
        static readonly ConditionalWeakTable<LoraWeights, Factors> _cache = new();

        public required bool Readable { get; init; }
        public required void* A { get; init; }
        public required void* B { get; init; }
        public required int Rank { get; init; }
        public required bool ABf16 { get; init; }
        public required bool BBf16 { get; init; }

        public static Factors Of(LoraWeights weights) => _cache.GetValue(weights, w => new Factors
        {
            Readable = IsReadable(w.A) && IsReadable(w.B),
            A = (void*)TensorMemory.DataPointer(w.A),
            B = (void*)TensorMemory.DataPointer(w.B),
            Rank = (int)w.A.shape[0],
            ABf16 = w.A.dtype == ScalarType.BFloat16,
            BBf16 = w.B.dtype == ScalarType.BFloat16,
        });

        static bool IsReadable(Tensor factor) =>
            factor.device_type == TorchSharp.DeviceType.CPU && factor.is_contiguous()
            && (factor.dtype == ScalarType.Float32 || factor.dtype == ScalarType.BFloat16);
    }

    /// <summary>For each projection (its module path, its fp32 result [rows, out] and out): adds
    /// every row's update from the input x [rows, inFeatures] (fp32).</summary>
    public static void Add<TIsa, TVector>(AdapterBatch adapters, int rows, float* x, int inFeatures, (string Path, IntPtr Y, int Out)[] projections)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        if (rows >= 4 && Environment.ProcessorCount > 1)
            Parallel.For(0, rows, r => AddRow<TIsa, TVector>(adapters, r, x, inFeatures, projections));
        else
            for (int r = 0; r < rows; r++) AddRow<TIsa, TVector>(adapters, r, x, inFeatures, projections);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void AddRow<TIsa, TVector>(AdapterBatch adapters, int r, float* x, int inFeatures, (string Path, IntPtr Y, int Out)[] projections)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        if (adapters.AdapterOf(r) is not { } adapter) return;
        float scale = (float)adapter.Scale;
        var low = stackalloc float[4];
        float* lowRank = stackalloc float[adapter.Config.Rank];   // every factor of an adapter has its rank
        foreach (var (path, yPointer, outFeatures) in projections)
        {
            if (!adapter.TryGet(path, out var weights)) continue;
            var factors = Factors.Of(weights);
            int rank = factors.Rank;
            float* row = x + (long)r * inFeatures, y = (float*)yPointer + (long)r * outFeatures;
            void* a = factors.A, b = factors.B;
            bool aBf16 = factors.ABf16, bBf16 = factors.BBf16;
            // The rank-r intermediate, scaled (r ≪ out): A·x_r.
            for (int j = 0; j < rank; j++)
            {
                if (aBf16) DecodeMatmul.Dot<TIsa, TVector, Bf16Weights, ushort>((ushort*)a + (long)j * inFeatures, row, inFeatures, 1, low);
                else DecodeMatmul.Dot<TIsa, TVector, Fp32Weights, float>((float*)a + (long)j * inFeatures, row, inFeatures, 1, low);
                lowRank[j] = low[0] * scale;
            }
            // y_r += B·(the intermediate): B is [out, rank], one short dot product per output.
            if (bBf16) AddProduct<TIsa, TVector, Bf16Weights, ushort>((ushort*)b, lowRank, rank, y, outFeatures);
            else AddProduct<TIsa, TVector, Fp32Weights, float>((float*)b, lowRank, rank, y, outFeatures);
        }
        GC.KeepAlive(adapter);
    }

    // y[o] += B_o · low for every output o (B [out, rank], fp32 or — as the service keeps adapters
    // in the compute dtype — bf16), 4 outputs at a time sharing their horizontal sums: at rank
    // 8–32 a dot product is one to a few vectors, and summing each one alone would cost more than
    // its multiply-adds. A rank narrower than the vectors runs at 128 bits.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void AddProduct<TIsa, TVector, TWeights, TElement>(TElement* b, float* low, int rank, float* y, int outFeatures)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
        where TWeights : IWeightElement<TElement> where TElement : unmanaged
    {
        int o = 0;
        if (rank % TIsa.Count == 0)
            for (; o + 4 <= outFeatures; o += 4)
            {
                TVector c0 = default, c1 = default, c2 = default, c3 = default;
                TElement* b0 = b + (long)o * rank;
                for (int j = 0; j < rank; j += TIsa.Count)
                {
                    var l = TIsa.Load(low + j);
                    c0 = TIsa.MultiplyAdd(TWeights.Load<TIsa, TVector>(b0 + j), l, c0);
                    c1 = TIsa.MultiplyAdd(TWeights.Load<TIsa, TVector>(b0 + rank + j), l, c1);
                    c2 = TIsa.MultiplyAdd(TWeights.Load<TIsa, TVector>(b0 + 2 * rank + j), l, c2);
                    c3 = TIsa.MultiplyAdd(TWeights.Load<TIsa, TVector>(b0 + 3 * rank + j), l, c3);
                }
                (Vector128.Load(y + o) + TIsa.Sum4(c0, c1, c2, c3)).Store(y + o);
            }
        else if (TIsa.Count > 4 && rank % 4 == 0)
        {
            AddProduct<PortableVector128, Vector128<float>, TWeights, TElement>(b, low, rank, y, outFeatures);
            return;
        }
        for (; o < outFeatures; o++)
        {
            float sum = 0;
            for (int j = 0; j < rank; j++) sum += TWeights.ToFloat(b[(long)o * rank + j]) * low[j];
            y[o] += sum;
        }
    }
}
