using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Whetstone.Engine.Formats;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>One decoder layer for a decode step (one new token per row, base model, no autograd)
/// written out on raw memory: a step at batch 1 is ~90 tiny tensor ops per layer, and each costs
/// more in dispatch than its arithmetic, so the torch path spends as long on overhead as on
/// reading the weights. Same math as <see cref="DecoderLayer"/> with the cache: norms, q/k/v
/// (biases, per-head q/k norm), rotary with the context's cos/sin, K/V written into the cache at
/// the row's position, attention over cache entries 0..position, SwiGLU, residuals. Activations
/// stay fp32 inside the layer (the torch path rounds bf16 after every op); the layer's output is
/// rounded once to the compute dtype. Matrix products go through <see cref="DecodeMatmul"/>.</summary>
internal sealed unsafe class DecodeLayerKernel(
    RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, SwiGluMlp mlp, ModelConfig config, int layer)
{
    readonly int _hidden = config.HiddenSize, _heads = config.NumAttentionHeads, _kvHeads = config.NumKeyValueHeads,
        _headDim = config.HeadDim, _intermediate = config.IntermediateSize;

    /// <summary>Whether this step can take the kernel: x is [B ≤ MaxRows, 1, hidden] with a cache
    /// and no adapters.</summary>
    public static bool Applies(Tensor x, ForwardContext context) =>
        context.Cache is not null && context.Adapters is null && x.shape[1] == 1 && x.shape[0] <= DecodeMatmul.MaxRows
        && DecodeMatmul.IsSupported && !is_grad_enabled() && x.device_type == TorchSharp.DeviceType.CPU
        && (x.dtype == ScalarType.Float32 || x.dtype == ScalarType.BFloat16);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Tensor Forward(Tensor x, ForwardContext context)
    {
        int rows = (int)x.shape[0];
        bool bf16 = x.dtype == ScalarType.BFloat16;
        var input = x.is_contiguous() ? x : x.contiguous();
        var positions = context.Positions.is_contiguous() ? context.Positions : context.Positions.contiguous();
        var (keys, values) = context.Cache!.LayerTensors(layer);
        int capacity = (int)keys.shape[2];
        int q = _heads * _headDim, kv = _kvHeads * _headDim;

        var s = Arena(rows * (3 * _hidden + 2 * q + 2 * kv + 2 * _intermediate + 2 * _headDim + (long)context.Cache.Capacity));
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
        DecodeMatmul.Run([
            new DecodeMatmul.Target(projections[0].Weight, projections[0].Bias, queries),
            new DecodeMatmul.Target(projections[1].Weight, projections[1].Bias, keysNew),
            new DecodeMatmul.Target(projections[2].Weight, projections[2].Bias, valuesNew)], normed, rows, _hidden, bf16);
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
            Parallel.For(0, rows, r => AttendRow(r, queries, keysNew, valuesNew, attended, cos, sin, position, keyCache, valueCache, capacity, bf16, scores + (long)r * capacity));
        else
            for (int r = 0; r < rows; r++) AttendRow(r, queries, keysNew, valuesNew, attended, cos, sin, position, keyCache, valueCache, capacity, bf16, scores + (long)r * capacity);
        DecodeMatmul.Run([new DecodeMatmul.Target(projections[3].Weight, null, projected)], attended, rows, q, bf16);
        Add(residual, projected, rows * _hidden);

        // MLP block.
        Norm(residual, normed, rows, _hidden, postAttentionNorm);
        var mlpProjections = mlp.Projections.ToArray();          // gate, up, down (SwiGluMlp.Projections order)
        DecodeMatmul.Run([
            new DecodeMatmul.Target(mlpProjections[0].Weight, null, gate),
            new DecodeMatmul.Target(mlpProjections[1].Weight, null, up)], normed, rows, _hidden, bf16);
        SiluTimes(gate, up, rows * _intermediate);
        DecodeMatmul.Run([new DecodeMatmul.Target(mlpProjections[2].Weight, null, projected)], gate, rows, _intermediate, bf16);
        Add(residual, projected, rows * _hidden);

        var output = empty(x.shape, x.dtype);
        DecodeMatmul.Store(residual, (void*)TensorMemory.DataPointer(output), rows * _hidden, bf16);
        GC.KeepAlive(cosCopy);
        GC.KeepAlive(sinCopy);
        return output;
    }

    // One row's rotary, cache write and attention over its cache entries 0..position.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void AttendRow(int r, float* queries, float* keysNew, float* valuesNew, float* attended, float* cos, float* sin, long* position,
        void* keyCache, void* valueCache, int capacity, bool bf16, float* scores)
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
            Attend(queries + r * q + h * _headDim, keyCache, valueCache, head, p + 1, scale, bf16, scores, attended + r * q + h * _headDim);
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
    // a time (their horizontal sums shared, as in the matrix tiles) when the head is 16-wide.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Attend(float* query, void* keyCache, void* valueCache, long head, int length, float scale, bool bf16, float* scores, float* output)
    {
        int j = 0;
        if (_headDim % 16 == 0)
            for (; j + 4 <= length; j += 4)
            {
                Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
                long at = head + (long)j * _headDim;
                for (int i = 0; i < _headDim; i += 16)
                {
                    var q = Vector512.Load(query + i);
                    c0 = Avx512F.FusedMultiplyAdd(Cached(keyCache, at + i, bf16), q, c0);
                    c1 = Avx512F.FusedMultiplyAdd(Cached(keyCache, at + _headDim + i, bf16), q, c1);
                    c2 = Avx512F.FusedMultiplyAdd(Cached(keyCache, at + 2 * _headDim + i, bf16), q, c2);
                    c3 = Avx512F.FusedMultiplyAdd(Cached(keyCache, at + 3 * _headDim + i, bf16), q, c3);
                }
                (DecodeMatmul.Reduce4(c0, c1, c2, c3) * scale).Store(scores + j);
            }
        for (; j < length; j++) scores[j] = Dot(query, keyCache, head + (long)j * _headDim, bf16) * scale;

        float max = float.NegativeInfinity;
        for (j = 0; j < length; j++) max = MathF.Max(max, scores[j]);
        var vectorMax = Vector512.Create(max);
        var vectorTotal = Vector512<float>.Zero;
        for (j = 0; j + 16 <= length; j += 16)
        {
            var e = Vector512.Exp(Vector512.Load(scores + j) - vectorMax);
            e.Store(scores + j);
            vectorTotal += e;
        }
        float total = Vector512.Sum(vectorTotal);
        for (; j < length; j++) total += scores[j] = MathF.Exp(scores[j] - max);

        for (int i = 0; i < _headDim; i++) output[i] = 0;
        for (j = 0; j < length; j++)
        {
            float weight = scores[j] / total;
            long at = head + (long)j * _headDim;
            int i = 0;
            var w = Vector512.Create(weight);
            for (; i + 16 <= _headDim; i += 16)
                Avx512F.FusedMultiplyAdd(w, Cached(valueCache, at + i, bf16), Vector512.Load(output + i)).Store(output + i);
            for (; i < _headDim; i++)
                output[i] += weight * (bf16 ? DecodeMatmul.Bf16ToFloat(((ushort*)valueCache)[at + i]) : ((float*)valueCache)[at + i]);
        }
    }

    // 16 cache values (K or V) from `at` as fp32.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Cached(void* cache, long at, bool bf16) =>
        bf16 ? DecodeMatmul.Widen((ushort*)cache + at) : Vector512.Load((float*)cache + at);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    float Dot(float* query, void* cache, long at, bool bf16)
    {
        int i = 0;
        var sum = Vector512<float>.Zero;
        if (bf16)
        {
            for (; i + 16 <= _headDim; i += 16) sum += DecodeMatmul.Widen((ushort*)cache + at + i) * Vector512.Load(query + i);
            float s = Vector512.Sum(sum);
            for (; i < _headDim; i++) s += query[i] * DecodeMatmul.Bf16ToFloat(((ushort*)cache)[at + i]);
            return s;
        }
        for (; i + 16 <= _headDim; i += 16) sum += Vector512.Load((float*)cache + at + i) * Vector512.Load(query + i);
        float f = Vector512.Sum(sum);
        for (; i < _headDim; i++) f += query[i] * ((float*)cache)[at + i];
        return f;
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
    static void SiluTimes(float* gate, float* up, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var g = Vector512.Load(gate + i);
            (g / (Vector512<float>.One + Vector512.Exp(-g)) * Vector512.Load(up + i)).Store(gate + i);
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
        if (bf16) DecodeMatmul.WidenBf16((ushort*)source, target, n);
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
