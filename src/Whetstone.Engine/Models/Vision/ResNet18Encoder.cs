using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Whetstone.Engine.Models.Vision;

/// <summary>The frozen tower <see cref="FrozenEncoders.ResNet18"/>: ImageNet ResNet18 from the
/// NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (its preprocessing graph, then the
/// network up to global pooling), run on ONNX Runtime on the worker's side. It is frozen, so no
/// gradient flows into it and its features are a pure function of the tile: they are cached by
/// the tile's hash, which makes repeated pictures (few-shot epochs, the sampler after the
/// learner) cost one run. One process-wide instance; ONNX Runtime sessions are thread-safe.</summary>
internal sealed class ResNet18Encoder
{
    const int CacheLimit = 8192;
    static readonly Lazy<ResNet18Encoder> Shared = new(() => new ResNet18Encoder(ModelDirectory));
    readonly InferenceSession _preprocess, _network;
    readonly ConcurrentDictionary<Guid, float[]> _cache = new();

    /// <summary>Where the package's build step copies the two ONNX files (DnnImageModels/).</summary>
    public static string ModelDirectory => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    public static bool Available => File.Exists(Path.Combine(ModelDirectory, "ResNet18Onnx", "ResNet18.onnx"))
        && File.Exists(Path.Combine(ModelDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));

    /// <summary>The process's encoder; refuses by the config key when the ONNX files are absent.</summary>
    public static ResNet18Encoder Instance => Available ? Shared.Value
        : throw new ModelConfigException("vision_config.whet_frozen_encoder",
            $"= '{FrozenEncoders.ResNet18}' needs ResNet18.onnx and ResNetPreprocess.onnx under {ModelDirectory} (package Microsoft.ML.DnnImageFeaturizer.ResNet18)");

    ResNet18Encoder(string directory)
    {
        var options = new SessionOptions { IntraOpNumThreads = Math.Max(1, Environment.ProcessorCount), InterOpNumThreads = 1 };
        _preprocess = new InferenceSession(Path.Combine(directory, "ResNetPrepOnnx", "ResNetPreprocess.onnx"), options);
        _network = new InferenceSession(Path.Combine(directory, "ResNet18Onnx", "ResNet18.onnx"), options);
    }

    /// <summary>Runs actually made (cache misses), for tests and logs.</summary>
    public long Runs => Interlocked.Read(ref _runs);
    long _runs;

    /// <summary>One tile, planar RGB [3, 224, 224] with values 0–255 → 512 pooled features.</summary>
    public float[] Features(ReadOnlySpan<float> tile)
    {
        const int side = FrozenEncoders.ResNet18Side;
        if (tile.Length != 3 * side * side) throw new ArgumentException($"a ResNet18 tile has {3 * side * side} values, not {tile.Length}");
        var key = new Guid(SHA256.HashData(MemoryMarshal.AsBytes(tile)).AsSpan(0, 16));
        if (_cache.TryGetValue(key, out var cached)) return cached;
        var pixels = new DenseTensor<float>(tile.ToArray(), [1, 3, side, side]);
        using var prepared = _preprocess.Run([NamedOnnxValue.CreateFromTensor(_preprocess.InputMetadata.Keys.Single(), pixels)]);
        using var pooled = _network.Run([NamedOnnxValue.CreateFromTensor(_network.InputMetadata.Keys.Single(), prepared.First().AsTensor<float>())]);
        var features = pooled.First().AsEnumerable<float>().ToArray();
        if (features.Length != FrozenEncoders.ResNet18Features)
            throw new InvalidOperationException($"ResNet18.onnx returned {features.Length} features, not {FrozenEncoders.ResNet18Features}");
        Interlocked.Increment(ref _runs);
        if (_cache.Count >= CacheLimit) _cache.Clear();
        _cache[key] = features;
        return features;
    }
}
