using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Keys and values of every layer for a batch of sequences, preallocated to a fixed
/// capacity: [B, kv_heads, capacity, head_dim] per layer. Each step writes its new entries in
/// place at the sequences' own positions (no concatenation, no reallocation).
/// Entries past a sequence's length may hold garbage from padding; attention masks them by
/// position, and the next real token overwrites them.
/// With multi-head latent attention the two slots per layer hold what MLA caches instead:
/// the normed latent c_kv [B, 1, capacity, kv_lora_rank] and the shared, already rotated rope key
/// [B, 1, capacity, qk_rope_head_dim] (see <see cref="MlaAttention"/>).</summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor[] _keys;
    readonly Tensor[] _values;

    public int BatchSize { get; }
    public int Capacity { get; }

    internal KvCache(ModelConfig config, int batchSize, int capacity, ScalarType dtype, Device device)
    {
        BatchSize = batchSize;
        Capacity = capacity;
        _keys = new Tensor[config.NumHiddenLayers];
        _values = new Tensor[config.NumHiddenLayers];
        long[] keyShape = config.Mla is MlaShape mla ? [batchSize, 1, capacity, mla.KvLoraRank] : [batchSize, config.NumKeyValueHeads, capacity, config.HeadDim];
        long[] valueShape = config.Mla is MlaShape m ? [batchSize, 1, capacity, m.QkRopeHeadDim] : keyShape;
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            _keys[i] = zeros(keyShape, dtype, device: device).DetachFromDisposeScope();
            _values[i] = zeros(valueShape, dtype, device: device).DetachFromDisposeScope();
        }
    }

    /// <summary>Bytes one token takes in the cache across all layers: L·(kv_lora_rank + rope)·size
    /// with MLA, L·2·kv_heads·head_dim·size with grouped-query attention.</summary>
    public static long BytesPerToken(ModelConfig config, int elementSize) =>
        (long)config.NumHiddenLayers * elementSize * (config.Mla is MlaShape mla ? mla.CachedWidth : 2L * config.NumKeyValueHeads * config.HeadDim);

    /// <summary>What this cache actually allocates per token of capacity per sequence.</summary>
    public long AllocatedBytesPerToken => _keys.Sum(k => k.shape[1] * k.shape[3] * k.ElementSize) + _values.Sum(v => v.shape[1] * v.shape[3] * v.ElementSize);

    KvCache(Tensor[] keys, Tensor[] values, int capacity)
    {
        _keys = keys;
        _values = values;
        BatchSize = (int)keys[0].shape[0];
        Capacity = capacity;
    }

    /// <summary>Writes k, v ([B, kv_heads, T, D]; MLA: latent and rope key, [B, 1, T, ·]) at the positions [B, T] and returns the cache's
    /// keys and values up to <paramref name="length"/>.</summary>
    internal (Tensor Keys, Tensor Values) Update(int layer, Tensor k, Tensor v, Tensor positions, long length)
    {
        var index = positions.unsqueeze(1).unsqueeze(-1);                                 // [B, 1, T, 1]
        _keys[layer].scatter_(2, index.expand(k.shape).contiguous(), k);
        _values[layer].scatter_(2, index.expand(v.shape).contiguous(), v);
        var range = TensorIndex.Slice(0, length);
        return (_keys[layer][TensorIndex.Colon, TensorIndex.Colon, range], _values[layer][TensorIndex.Colon, TensorIndex.Colon, range]);
    }

    /// <summary>Layer <paramref name="layer"/>'s whole key and value tensors, for kernels that write
    /// and read them in place.</summary>
    internal (Tensor Keys, Tensor Values) LayerTensors(int layer) => (_keys[layer], _values[layer]);

    /// <summary>A new cache made of the given rows of this one (repeats allowed): how one prompt's
    /// prefill is shared by several samples, and how finished sequences leave the batch.</summary>
    public KvCache SelectRows(long[] rows)
    {
        using var scope = NewDisposeScope();
        var index = tensor(rows, device: _keys[0].device);
        var keys = _keys.Select(k => k.index_select(0, index).DetachFromDisposeScope()).ToArray();
        var values = _values.Select(v => v.index_select(0, index).DetachFromDisposeScope()).ToArray();
        return new KvCache(keys, values, Capacity);
    }

    /// <summary>A new cache of <paramref name="capacity"/> positions holding this cache's first
    /// <paramref name="length"/> positions (every row): how a prefix computed once is extended by
    /// another sequence that starts with the same tokens (<see cref="Sampling.PrefixKvStore"/>).
    /// Past <paramref name="length"/> it is zeros, which attention masks by position.</summary>
    public KvCache Prefix(int length, int capacity)
    {
        if (length > Capacity || length > capacity) throw new ArgumentOutOfRangeException(nameof(length), $"prefix of {length} positions from a cache of {Capacity} into one of {capacity}");
        using var scope = NewDisposeScope();
        Tensor Copy(Tensor t)
        {
            var shape = t.shape.ToArray();
            shape[2] = capacity;
            var result = zeros(shape, t.dtype, device: t.device);
            if (length > 0) result.narrow(2, 0, length).copy_(t.narrow(2, 0, length));
            return result.DetachFromDisposeScope();
        }
        return new KvCache(_keys.Select(Copy).ToArray(), _values.Select(Copy).ToArray(), capacity);
    }

    /// <summary>A new cache holding this cache's rows followed by <paramref name="other"/>'s, with the
    /// larger of the two capacities (the smaller is padded with zeros, which attention masks by
    /// position): how new sequences join a running decode batch.</summary>
    public KvCache Concat(KvCache other)
    {
        using var scope = NewDisposeScope();
        int capacity = Math.Max(Capacity, other.Capacity);
        Tensor Widen(Tensor t) => t.shape[2] == capacity ? t : nn.functional.pad(t, [0, 0, 0, capacity - t.shape[2]]);
        var keys = _keys.Select((k, i) => cat([Widen(k), Widen(other._keys[i])], 0).DetachFromDisposeScope()).ToArray();
        var values = _values.Select((v, i) => cat([Widen(v), Widen(other._values[i])], 0).DetachFromDisposeScope()).ToArray();
        return new KvCache(keys, values, capacity);
    }

    public void Dispose()
    {
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
    }
}
