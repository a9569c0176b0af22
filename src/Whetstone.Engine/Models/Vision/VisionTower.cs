using TorchSharp;
using TorchSharp.Utils;
using TorchSharp.Modules;
using Whetstone.Engine.Lora;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>Qwen2.5-VL's ViT ("visual.*", Qwen2_5_VisionTransformerPretrainedModel): patch
/// embedding, pre-norm blocks with 2-D rotary positions, windowed attention except in the
/// full-attention blocks, and the merger that projects 2×2 patch groups into LM embeddings.
/// Hugging Face reorders patches window by window and back; attention inside a window does not
/// depend on order, so here the patches stay in place and a mask keeps each window to itself.</summary>
internal sealed class VisionTower : nn.Module, IVisionEncoder
{
    public const string Prefix = "visual";

    [ComponentName(Name = "patch_embed")] readonly PatchEmbedding? _patchEmbed;
    [ComponentName(Name = "blocks")] readonly ModuleList<VisionBlock> _blocks;
    [ComponentName(Name = "merger")] readonly PatchMerger _merger;
    readonly VisionConfig _config;
    readonly float[] _inverseFrequencies;
    readonly Device _device;
    /// <summary>A frozen pretrained encoder in place of patch_embed and blocks (null: the ViT).</summary>
    readonly ResNet18Encoder? _frozen;

    public VisionTower(WeightLoader weights, VisionConfig config) : base(Prefix)
    {
        _config = config;
        _device = weights.Device;
        _blocks = new ModuleList<VisionBlock>();
        if (config.FrozenEncoder is not null) _frozen = ResNet18Encoder.Instance;
        else _patchEmbed = new PatchEmbedding(weights, $"{Prefix}.patch_embed", config);
        for (int i = 0; i < config.Depth; i++) _blocks.Add(new VisionBlock(weights, $"{Prefix}.blocks.{i}", config));
        _merger = new PatchMerger(weights, $"{Prefix}.merger", config);
        // Each of the two axes gets head_dim / 4 frequencies, θ = 10000 over a head_dim / 2 span.
        _inverseFrequencies = InverseFrequencies(config.HeadDim);
        RegisterComponents();
    }

    /// <summary>Each of the two axes gets head_dim / 4 frequencies, θ = 10000 over a head_dim / 2 span.</summary>
    internal static float[] InverseFrequencies(int headDim) =>
        Enumerable.Range(0, headDim / 4).Select(i => (float)(1.0 / Math.Pow(10000, 2.0 * i / (headDim / 2)))).ToArray();

    public VisionFeatures Encode(IReadOnlyList<ImagePatches> images, AdapterBatch? adapters, ScalarType dtype) => new(Forward(images, adapters, dtype), []);

    public IEnumerable<LinearProjection> TowerProjections => _blocks.SelectMany(b => b.Projections);
    public IEnumerable<LinearProjection> ProjectorProjections => _merger.Projections;

    /// <summary>The images of one batch row → their LM embeddings, concatenated in order:
    /// [Σ tokens, out_hidden]. <paramref name="adapters"/> is that row's adapter (batch of one).</summary>
    public Tensor Forward(IReadOnlyList<ImagePatches> images, AdapterBatch? adapters, ScalarType dtype)
    {
        int values = _config.PatchValues;
        var flat = new float[images.Sum(i => i.Values.Length)];
        int at = 0;
        foreach (var image in images)
        {
            if (image.Values.Length != image.Patches * values)
                throw new ArgumentException($"an image has {image.Values.Length} values, not {image.Patches} patches × {values}");
            image.Values.CopyTo(flat, at);
            at += image.Values.Length;
        }
        long n = flat.Length / values;
        if (_frozen is not null) return _merger.Forward(FrozenFeatures(flat, n, values).to(dtype), new ForwardContext
        {
            Cos = empty(0, device: _device), Sin = empty(0, device: _device), Positions = empty(0, dtype: ScalarType.Int64, device: _device), Adapters = adapters,
        }).squeeze(0);
        var x = _patchEmbed!.Forward(tensor(flat, device: _device).view(1, n, values).to(dtype));    // [1, N, hidden]
        var (cos, sin) = Angles(images, _inverseFrequencies, _config.SpatialMergeSize, _device, dtype);                                     // [N, 1, D]
        var context = new ForwardContext { Cos = cos, Sin = sin, Positions = empty(0, dtype: ScalarType.Int64, device: _device), Adapters = adapters };
        var (windowMask, imageMask) = Masks(images);
        for (int i = 0; i < _blocks.Count; i++)
            x = _blocks[i].Forward(x, cos, sin, _config.FullAttBlockIndexes.Contains(i) ? imageMask : windowMask, context);
        return _merger.Forward(x, context).squeeze(0);                              // [N/4, out_hidden]
    }

    /// <summary>The frozen encoder's features of every tile: [1, N, features], no gradient.</summary>
    Tensor FrozenFeatures(float[] flat, long tiles, int values)
    {
        var features = new float[tiles * _config.HiddenSize];
        for (long i = 0; i < tiles; i++)
            _frozen!.Features(flat.AsSpan((int)(i * values), values)).CopyTo(features, i * _config.HiddenSize);
        return tensor(features, device: _device).view(1, tiles, _config.HiddenSize);
    }

    /// <summary>2-D rotary angles per patch: the first half of the frequencies turn with the
    /// patch's row, the second with its column; patches are in merge-group order.</summary>
    internal static (Tensor Cos, Tensor Sin) Angles(IReadOnlyList<ImagePatches> images, float[] inverseFrequencies, int merge, Device device, ScalarType dtype)
    {
        int quarter = inverseFrequencies.Length, half = 2 * quarter;
        var angles = new List<float>();
        foreach (var (row, column, _, _) in PatchCoordinates(images, merge))
        {
            var one = new float[half];
            for (int i = 0; i < quarter; i++) { one[i] = row * inverseFrequencies[i]; one[quarter + i] = column * inverseFrequencies[i]; }
            angles.AddRange(one);
        }
        var freqs = tensor(angles.ToArray(), device: device).view(-1, half);                        // [N, D/2]
        var emb = cat([freqs, freqs], -1).unsqueeze(1);                             // [N, 1, D]
        return (emb.cos().to(dtype), emb.sin().to(dtype));
    }

    /// <summary>[N, N] bool masks: same window (and image), and same image.</summary>
    (Tensor Window, Tensor Image) Masks(IReadOnlyList<ImagePatches> images)
    {
        int unitsPerWindow = _config.WindowSize / _config.PixelsPerToken;
        var windows = new List<long>();
        var owners = new List<long>();
        foreach (var (row, column, image, gridW) in PatchCoordinates(images, _config.SpatialMergeSize))
        {
            int m = _config.SpatialMergeSize;
            int windowsPerRow = (gridW / m + unitsPerWindow - 1) / unitsPerWindow;
            windows.Add(image * 1_000_000L + row / m / unitsPerWindow * windowsPerRow + column / m / unitsPerWindow);
            owners.Add(image);
        }
        var w = tensor(windows.ToArray(), device: _device);
        var o = tensor(owners.ToArray(), device: _device);
        return (w.unsqueeze(1) == w.unsqueeze(0), o.unsqueeze(1) == o.unsqueeze(0));
    }

    /// <summary>(row, column) of every patch in the processor's order, with its image's index and grid width.</summary>
    internal static IEnumerable<(int Row, int Column, int Image, int GridW)> PatchCoordinates(IReadOnlyList<ImagePatches> images, int m)
    {
        for (int index = 0; index < images.Count; index++)
        {
            var image = images[index];
            for (int t = 0; t < image.GridT; t++)
                for (int bh = 0; bh < image.GridH / m; bh++)
                    for (int bw = 0; bw < image.GridW / m; bw++)
                        for (int mh = 0; mh < m; mh++)
                            for (int mw = 0; mw < m; mw++)
                                yield return (bh * m + mh, bw * m + mw, index, image.GridW);
        }
    }
}

/// <summary>Conv3d with kernel = stride = (temporal, patch, patch) and no bias, applied to patches
/// already cut out: one matmul with the kernel flattened to [hidden, C·T·P·P].</summary>
internal sealed class PatchEmbedding : nn.Module
{
    [ComponentName(Name = "proj")] readonly PatchKernel _proj;

    public PatchEmbedding(WeightLoader weights, string name, VisionConfig config) : base(name)
    {
        _proj = new PatchKernel(weights, $"{name}.proj", config);
        RegisterComponents();
    }

    /// <summary>[1, N, C·T·P·P] → [1, N, hidden].</summary>
    public Tensor Forward(Tensor patches) => nn.functional.linear(patches, _proj.Weight.flatten(1), _proj.Bias);
}

internal sealed class PatchKernel : nn.Module
{
    [ComponentName(Name = "weight")] readonly Parameter _weight;   // [hidden, C, T, P, P]
    [ComponentName(Name = "bias")] readonly Parameter? _bias;      // [hidden]: Qwen3-VL's Conv3d has one

    public PatchKernel(WeightLoader weights, string name, VisionConfig c) : base(name)
    {
        _weight = weights.Parameter($"{name}.weight", c.HiddenSize, c.InChannels, c.TemporalPatchSize, c.PatchSize, c.PatchSize);
        if (c.Architecture == VisionArchitecture.Qwen3Vl) _bias = weights.Parameter($"{name}.bias", c.HiddenSize);
        RegisterComponents();
    }

    public Tensor Weight => _weight;
    public Tensor? Bias => _bias;
}
