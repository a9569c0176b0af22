using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Whetstone.Engine.Formats;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>One decoder layer for a decode step (one new token per row, no autograd)
/// written out on raw memory: a step at batch 1 is ~90 tiny tensor ops per layer, and each costs
/// more in dispatch than its arithmetic, so the torch path spends as long on overhead as on
/// reading the weights. Same math as <see cref="DecoderLayer"/> with the cache: norms, q/k/v
/// (biases, per-head q/k norm), rotary with the context's cos/sin, K/V written into the cache at
/// the row's position, attention over cache entries 0..position, SwiGLU, residuals. Activations
/// stay fp32 inside the layer (the torch path rounds bf16 after every op); the layer's output is
/// rounded once to the compute dtype. Matrix products go through <see cref="DecodeMatmul"/>; rows that
/// carry a LoRA adapter get its low-rank update added to each projection (<see cref="DecodeLowRank"/>).
/// Written once, generic over the vector width <see cref="DecodeInstructionSet"/> chose.</summary>
internal sealed unsafe class DecodeLayerKernel(
    RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, SwiGluMlp mlp, ModelConfig config, int layer)
{
    readonly int _hidden = config.HiddenSize, _heads = config.NumAttentionHeads, _kvHeads = config.NumKeyValueHeads,
        _headDim = config.HeadDim, _intermediate = config.IntermediateSize;

    /// <summary>Whether this step can take the kernel: x is [B ≤ MaxRows, 1, hidden] with a cache,
    /// and any adapters' factors are CPU fp32/bf16 (<see cref="DecodeLowRank.Supports"/>).</summary>
    public static bool Applies(Tensor x, ForwardContext context) =>
        context.Cache is not null && x.shape[1] == 1 && x.shape[0] <= DecodeMatmul.MaxRows
        && DecodeMatmul.IsSupported && !is_grad_enabled() && x.device_type == TorchSharp.DeviceType.CPU
        && (x.dtype == ScalarType.Float32 || x.dtype == ScalarType.BFloat16)
        && (context.Adapters is null || DecodeLowRank.Supports(context.Adapters));

    public Tensor Forward(Tensor x, ForwardContext context) => DecodeInstructionSet.Current switch
    {
        DecodeIsa.Avx512 => Forward<Avx512Vectors, Vector512<float>>(x, context),
        DecodeIsa.Avx2 => Forward<Avx2Vectors, Vector256<float>>(x, context),
        DecodeIsa.Vector128 => Forward<PortableVector128, Vector128<float>>(x, context),
        _ => throw new InvalidOperationException("the decode kernels are off (WHET_DECODE_ISA / WHET_DECODE_KERNEL)"),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    Tensor Forward<TIsa, TVector>(Tensor x, ForwardContext context) where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        int rows = (int)x.shape[0];
        bool bf16 = x.dtype == ScalarType.BFloat16;
        var input = x.is_contiguous() ? x : x.contiguous();
        var positions = context.Positions.is_contiguous() ? context.Positions : context.Positions.contiguous();
        var (keys, values) = context.Cache!.LayerTensors(layer);
        int capacity = (int)keys.shape[2];
        int q = _heads * _headDim, kv = _kvHeads * _headDim;

        var s = Arena(rows * (3 * _hidden + 2 * q + 2 * kv + 2 * _intermediate + 2 * _headDim + (long)context.Cache.Capacity));
        var adapters = context.Adapters;
        float* residual = s, normed = residual + rows * _hidden, queries = normed + rows * _hidden, keysNew = queries + rows * q,
            valuesNew = keysNew + rows * kv, attended = valuesNew + rows * kv, gate = attended + rows * q,
            up = gate + rows * _intermediate, projected = up + rows * _intermediate, scores = projected + rows * _hidden;

        Load(TensorMemory.DataPointer(input), residual, rows * _hidden, bf16);
        long* position = (long*)TensorMemory.DataPointer(positions);
        float* cos = AnglesInFp32(context.Cos, rows * _headDim, scores + (long)rows * context.Cache.Capacity, bf16, out var cosCopy);
        float* sin = AnglesInFp32(context.Sin, rows * _headDim, cos + rows * _headDim, bf16, out var sinCopy);

        // Attention block.
        Norm(residual, normed, rows, _hidden, inputNorm);
        var projections = attention.Projections.ToArray();     // q, k, v, o (Attention.Projections order)
        DecodeMatmul.Run<TIsa, TVector>([
            new DecodeMatmul.Target(projections[0].Weight, projections[0].Bias, queries),
            new DecodeMatmul.Target(projections[1].Weight, projections[1].Bias, keysNew),
            new DecodeMatmul.Target(projections[2].Weight, projections[2].Bias, valuesNew)], normed, rows, _hidden, bf16);
        if (adapters is not null)
            DecodeLowRank.Add<TIsa, TVector>(adapters, rows, normed, _hidden, [(projections[0].Path, (IntPtr)queries, q), (projections[1].Path, (IntPtr)keysNew, kv), (projections[2].Path, (IntPtr)valuesNew, kv)]);
        if (attention.QueryNorm is { } queryNorm) Norm(queries, queries, rows * _heads, _headDim, queryNorm);
        if (attention.KeyNorm is { } keyNorm) Norm(keysNew, keysNew, rows * _kvHeads, _headDim, keyNorm);
        void* keyCache = (void*)TensorMemory.DataPointer(keys), valueCache = (void*)TensorMemory.DataPointer(values);
        for (int r = 0; r < rows; r++)
        {
            int p = (int)position[r];
            if (p < 0 || p >= capacity) throw new ArgumentOutOfRangeException(nameof(context), $"position {p} outside the cache's {capacity}");
        }
        // Rows attend independently (each over its own cache rows): several rows share the cores.
        if (rows >= 4 && Environment.ProcessorCount > 1)
            Parallel.For(0, rows, r => AttendRow<TIsa, TVector>(r, queries, keysNew, valuesNew, attended, cos, sin, position, keyCache, valueCache, capacity, bf16, scores + (long)r * capacity));
        else
            for (int r = 0; r < rows; r++) AttendRow<TIsa, TVector>(r, queries, keysNew, valuesNew, attended, cos, sin, position, keyCache, valueCache, capacity, bf16, scores + (long)r * capacity);
        DecodeMatmul.Run<TIsa, TVector>([new DecodeMatmul.Target(projections[3].Weight, null, projected)], attended, rows, q, bf16);
        if (adapters is not null) DecodeLowRank.Add<TIsa, TVector>(adapters, rows, attended, q, [(projections[3].Path, (IntPtr)projected, _hidden)]);
        Add(residual, projected, rows * _hidden);

        // MLP block.
        Norm(residual, normed, rows, _hidden, postAttentionNorm);
        var mlpProjections = mlp.Projections.ToArray();          // gate, up, down (SwiGluMlp.Projections order)
        DecodeMatmul.Run<TIsa, TVector>([
            new DecodeMatmul.Target(mlpProjections[0].Weight, null, gate),
            new DecodeMatmul.Target(mlpProjections[1].Weight, null, up)], normed, rows, _hidden, bf16);
        if (adapters is not null)
            DecodeLowRank.Add<TIsa, TVector>(adapters, rows, normed, _hidden, [(mlpProjections[0].Path, (IntPtr)gate, _intermediate), (mlpProjections[1].Path, (IntPtr)up, _intermediate)]);
        SiluTimes<TIsa, TVector>(gate, up, rows * _intermediate);
        DecodeMatmul.Run<TIsa, TVector>([new DecodeMatmul.Target(mlpProjections[2].Weight, null, projected)], gate, rows, _intermediate, bf16);
        if (adapters is not null) DecodeLowRank.Add<TIsa, TVector>(adapters, rows, gate, _intermediate, [(mlpProjections[2].Path, (IntPtr)projected, _hidden)]);
        Add(residual, projected, rows * _hidden);

        var output = empty(x.shape, x.dtype, device: x.device);   // the CPU: the kernel runs only there
        DecodeMatmul.Store(residual, (void*)TensorMemory.DataPointer(output), rows * _hidden, bf16);
        GC.KeepAlive(cosCopy);
        GC.KeepAlive(sinCopy);
        return output;
    }

    // One row's rotary, cache write and attention over its cache entries 0..position.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void AttendRow<TIsa, TVector>(int r, float* queries, float* keysNew, float* valuesNew, float* attended, float* cos, float* sin, long* position,
        void* keyCache, void* valueCache, int capacity, bool bf16, float* scores)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        int q = _heads * _headDim, kv = _kvHeads * _headDim, group = _heads / _kvHeads;
        float scale = 1 / MathF.Sqrt(_headDim);
        int p = (int)position[r];
        float* c = cos + r * _headDim, sn = sin + r * _headDim;
        for (int h = 0; h < _heads; h++) Rotate(queries + r * q + h * _headDim, c, sn);
        for (int h = 0; h < _kvHeads; h++)
        {
            Rotate(keysNew + r * kv + h * _headDim, c, sn);
            long at = (((long)r * _kvHeads + h) * capacity + p) * _headDim;
            Write(keysNew + r * kv + h * _headDim, keyCache, at, _headDim, bf16);
            Write(valuesNew + r * kv + h * _headDim, valueCache, at, _headDim, bf16);
        }
        for (int h = 0; h < _heads; h++)
        {
            long head = ((long)r * _kvHeads + h / group) * capacity * _headDim;
            Attend<TIsa, TVector>(queries + r * q + h * _headDim, keyCache, valueCache, head, p + 1, scale, bf16, scores, attended + r * q + h * _headDim);
        }
    }

    // RMS norm of each of `count` vectors of `size` (in place allowed), times the norm's weight.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Norm(float* source, float* target, int count, int size, RmsNorm norm)
    {
        var weight = norm.Weight;
        bool bf16 = weight.dtype == ScalarType.BFloat16;
        void* w = (void*)TensorMemory.DataPointer(weight);
        for (int v = 0; v < count; v++)
        {
            float* x = source + (long)v * size, y = target + (long)v * size;
            double squares = 0;
            for (int i = 0; i < size; i++) squares += x[i] * x[i];
            float inverse = (float)(1 / Math.Sqrt(squares / size + norm.Eps));
            for (int i = 0; i < size; i++) y[i] = x[i] * inverse * (bf16 ? DecodeMatmul.Bf16ToFloat(((ushort*)w)[i]) : ((float*)w)[i]);
        }
    }

    // Hugging Face's rotate-half: x·cos + [−x2, x1]·sin.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Rotate(float* x, float* cos, float* sin)
    {
        int half = _headDim / 2;
        for (int i = 0; i < half; i++)
        {
            float x1 = x[i], x2 = x[i + half];
            x[i] = x1 * cos[i] - x2 * sin[i];
            x[i + half] = x2 * cos[i + half] + x1 * sin[i + half];
        }
    }

    // softmax(q·K[0..length)ᵀ · scale) · V[0..length) for one head. Scores come 4 cache entries at
    // a time (their horizontal sums shared, as in the matrix tiles) when the head is whole vectors.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Attend<TIsa, TVector>(float* query, void* keyCache, void* valueCache, long head, int length, float scale, bool bf16, float* scores, float* output)
        where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        int width = TIsa.Count, vectorEnd = _headDim - _headDim % width;
        int j = 0;
        if (vectorEnd == _headDim)
            for (; j + 4 <= length; j += 4)
            {
                TVector c0 = default, c1 = default, c2 = default, c3 = default;
                long at = head + (long)j * _headDim;
                for (int i = 0; i < _headDim; i += width)
                {
                    var q = TIsa.Load(query + i);
                    c0 = TIsa.MultiplyAdd(Cached<TIsa, TVector>(keyCache, at + i, bf16), q, c0);
                    c1 = TIsa.MultiplyAdd(Cached<TIsa, TVector>(keyCache, at + _headDim + i, bf16), q, c1);
                    c2 = TIsa.MultiplyAdd(Cached<TIsa, TVector>(keyCache, at + 2 * _headDim + i, bf16), q, c2);
                    c3 = TIsa.MultiplyAdd(Cached<TIsa, TVector>(keyCache, at + 3 * _headDim + i, bf16), q, c3);
                }
                (TIsa.Sum4(c0, c1, c2, c3) * scale).Store(scores + j);
            }
        for (; j < length; j++) scores[j] = Dot<TIsa, TVector>(query, keyCache, head + (long)j * _headDim, bf16) * scale;

        float max = float.NegativeInfinity;
        for (j = 0; j < length; j++) max = MathF.Max(max, scores[j]);
        var vectorMax = TIsa.Create(max);
        TVector vectorTotal = default;
        for (j = 0; j + width <= length; j += width)
        {
            var e = TIsa.Exp(TIsa.Subtract(TIsa.Load(scores + j), vectorMax));
            TIsa.Store(e, scores + j);
            vectorTotal = TIsa.Add(vectorTotal, e);
        }
        float total = TIsa.Sum(vectorTotal);
        for (; j < length; j++) total += scores[j] = MathF.Exp(scores[j] - max);

        for (int i = 0; i < _headDim; i++) output[i] = 0;
        for (j = 0; j < length; j++)
        {
            float weight = scores[j] / total;
            long at = head + (long)j * _headDim;
            int i = 0;
            var w = TIsa.Create(weight);
            for (; i < vectorEnd; i += width)
                TIsa.Store(TIsa.MultiplyAdd(w, Cached<TIsa, TVector>(valueCache, at + i, bf16), TIsa.Load(output + i)), output + i);
            for (; i < _headDim; i++)
                output[i] += weight * (bf16 ? DecodeMatmul.Bf16ToFloat(((ushort*)valueCache)[at + i]) : ((float*)valueCache)[at + i]);
        }
    }

    // Count cache values (K or V) from `at` as fp32.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVector Cached<TIsa, TVector>(void* cache, long at, bool bf16) where TIsa : IDecodeVectors<TVector> where TVector : struct =>
        bf16 ? TIsa.LoadBf16((ushort*)cache + at) : TIsa.Load((float*)cache + at);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    float Dot<TIsa, TVector>(float* query, void* cache, long at, bool bf16) where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        int i = 0, width = TIsa.Count;
        TVector sum = default;
        for (; i + width <= _headDim; i += width) sum = TIsa.MultiplyAdd(Cached<TIsa, TVector>(cache, at + i, bf16), TIsa.Load(query + i), sum);
        float s = TIsa.Sum(sum);
        for (; i < _headDim; i++) s += query[i] * (bf16 ? DecodeMatmul.Bf16ToFloat(((ushort*)cache)[at + i]) : ((float*)cache)[at + i]);
        return s;
    }

    // The cache holds the compute dtype: what the torch path would have stored.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Write(float* source, void* cache, long at, int n, bool bf16)
    {
        if (bf16) for (int i = 0; i < n; i++) ((ushort*)cache)[at + i] = DecodeMatmul.FloatToBf16(source[i]);
        else for (int i = 0; i < n; i++) ((float*)cache)[at + i] = source[i];
    }

    // gate ← silu(gate) · up
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void SiluTimes<TIsa, TVector>(float* gate, float* up, int n) where TIsa : IDecodeVectors<TVector> where TVector : struct
    {
        int i = 0;
        var one = TIsa.Create(1);
        for (; i + TIsa.Count <= n; i += TIsa.Count)
        {
            var g = TIsa.Load(gate + i);
            TIsa.Store(TIsa.Multiply(TIsa.Divide(g, TIsa.Add(one, TIsa.Exp(TIsa.Subtract(default, g)))), TIsa.Load(up + i)), gate + i);
        }
        for (; i < n; i++) gate[i] = gate[i] / (1 + MathF.Exp(-gate[i])) * up[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Add(float* target, float* source, int n)
    {
        for (int i = 0; i < n; i++) target[i] += source[i];
    }

    static void Load(IntPtr source, float* target, int n, bool bf16)
    {
        if (bf16) DecodeMatmul.WidenBf16((void*)source, target, n);
        else Buffer.MemoryCopy((void*)source, target, (long)n * 4, (long)n * 4);
    }

    // cos/sin ([B, 1, 1, D] in the compute dtype) as fp32.
    static float* AnglesInFp32(Tensor angles, int n, float* room, bool bf16, out Tensor? copy)
    {
        copy = angles.is_contiguous() ? null : angles.contiguous();
        Load(TensorMemory.DataPointer(copy ?? angles), room, n, bf16);
        return room;
    }

    [ThreadStatic] static GrowableBuffer _arena;

    // Per thread, kept: no allocation per step.
    static float* Arena(long floats) => _arena.Get(floats);
}
