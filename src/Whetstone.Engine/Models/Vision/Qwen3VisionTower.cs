using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using Whetstone.Engine.Lora;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>Qwen3-VL's ViT ("model.visual.*", Qwen3VLVisionModel): patch embedding (a Conv3d with
/// bias) plus learned positions interpolated to the grid (<see cref="PositionEmbeddingGrid"/>),
/// LayerNorm blocks with the same 2-D rotary attention as Qwen2.5-VL but no windows (each frame
/// attends to itself), the merger into the LM's width, and one deepstack merger per block listed in
/// deepstack_visual_indexes, whose outputs the LM adds after its first decoder layers.</summary>
internal sealed class Qwen3VisionTower : nn.Module, IVisionEncoder
{
    [ComponentName(Name = "patch_embed")] readonly PatchEmbedding _patchEmbed;
    [ComponentName(Name = "pos_embed")] readonly TokenEmbedding _posEmbed;
    [ComponentName(Name = "blocks")] readonly ModuleList<Qwen3VisionBlock> _blocks;
    [ComponentName(Name = "merger")] readonly Qwen3PatchMerger _merger;
    [ComponentName(Name = "deepstack_merger_list")] readonly ModuleList<Qwen3PatchMerger> _deepstack;
    readonly VisionConfig _config;
    readonly float[] _inverseFrequencies;
    readonly Device _device;

    public Qwen3VisionTower(WeightLoader weights, string name, VisionConfig config) : base(name)
    {
        _config = config;
        _device = weights.Device;
        _patchEmbed = new PatchEmbedding(weights, $"{name}.patch_embed", config);
        _posEmbed = new TokenEmbedding(weights, $"{name}.pos_embed", config.NumPositionEmbeddings, config.HiddenSize);
        _blocks = new ModuleList<Qwen3VisionBlock>();
        for (int i = 0; i < config.Depth; i++) _blocks.Add(new Qwen3VisionBlock(weights, $"{name}.blocks.{i}", config));
        _merger = new Qwen3PatchMerger(weights, $"{name}.merger", config, normAfterGrouping: false);
        _deepstack = new ModuleList<Qwen3PatchMerger>();
        for (int k = 0; k < config.DeepstackVisualIndexes.Count; k++)
            _deepstack.Add(new Qwen3PatchMerger(weights, $"{name}.deepstack_merger_list.{k}", config, normAfterGrouping: true));
        _inverseFrequencies = VisionTower.InverseFrequencies(config.HeadDim);
        RegisterComponents();
    }

    public IEnumerable<LinearProjection> TowerProjections => _blocks.SelectMany(b => b.Projections);
    public IEnumerable<LinearProjection> ProjectorProjections => _merger.Projections.Concat(_deepstack.SelectMany(d => d.Projections));

    public VisionFeatures Encode(IReadOnlyList<ImagePatches> images, AdapterBatch? adapters, ScalarType dtype)
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
        var x = _patchEmbed.Forward(tensor(flat, device: _device).view(1, n, values).to(dtype)) + Positions(images).to(dtype).unsqueeze(0);
        var (cos, sin) = VisionTower.Angles(images, _inverseFrequencies, _config.SpatialMergeSize, _device, dtype);
        var context = new ForwardContext { Cos = cos, Sin = sin, Positions = empty(0, dtype: ScalarType.Int64, device: _device), Adapters = adapters };
        var mask = FrameMask(images);
        var deepstack = new Tensor[_deepstack.Count];
        for (int i = 0; i < _blocks.Count; i++)
        {
            x = _blocks[i].Forward(x, cos, sin, mask, context);
            int level = _config.DeepstackVisualIndexes.ToList().IndexOf(i);
            if (level >= 0) deepstack[level] = _deepstack[level].Forward(x, context);
        }
        return new VisionFeatures(_merger.Forward(x, context), deepstack);
    }

    /// <summary>[N, hidden]: every patch's interpolated pos_embed row, in the processor's patch order.</summary>
    internal Tensor Positions(IReadOnlyList<ImagePatches> images)
    {
        int side = (int)Math.Round(Math.Sqrt(_config.NumPositionEmbeddings));
        var rows = new List<long>();
        var weights = new List<double>();
        var grids = images.SelectMany(i => Enumerable.Repeat(i, i.Patches)).ToArray();
        int patch = 0;
        foreach (var (row, column, _, _) in VisionTower.PatchCoordinates(images, _config.SpatialMergeSize))
        {
            var image = grids[patch++];
            foreach (var (index, weight) in PositionEmbeddingGrid.Corners(side, image.GridH, image.GridW, row, column))
            {
                rows.Add(index);
                weights.Add(weight);
            }
        }
        var table = _posEmbed.Weight;
        var picked = table.index_select(0, tensor(rows.ToArray(), device: _device));                   // [4N, hidden]
        var w = tensor(weights.ToArray(), device: _device).to(table.dtype).view(-1, 4, 1);
        return (picked.view(-1, 4, _config.HiddenSize) * w).sum(1);
    }

    /// <summary>[N, N] bool: patches of the same frame of the same image attend to each other.</summary>
    Tensor FrameMask(IReadOnlyList<ImagePatches> images)
    {
        var owners = new List<long>();
        for (int index = 0; index < images.Count; index++)
            for (int t = 0; t < images[index].GridT; t++)
                owners.AddRange(Enumerable.Repeat(index * 100_000L + t, images[index].GridH * images[index].GridW));
        var o = tensor(owners.ToArray(), device: _device);
        return o.unsqueeze(1) == o.unsqueeze(0);
    }
}
