using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>Qwen3-VL's projector (Qwen3VLVisionPatchMerger): LayerNorm, then each 2×2 group of
/// patches (contiguous in the patch order) concatenated through linear_fc1, GELU (erf), linear_fc2
/// into the LM's width. The main merger norms each patch before grouping; the deepstack mergers
/// norm the concatenated group (use_postshuffle_norm).</summary>
internal sealed class Qwen3PatchMerger : nn.Module
{
    [ComponentName(Name = "norm")] readonly VisionLayerNorm _norm;
    [ComponentName(Name = "linear_fc1")] readonly LinearProjection _fc1;   // [4·hidden, 4·hidden]
    [ComponentName(Name = "linear_fc2")] readonly LinearProjection _fc2;   // [out_hidden, 4·hidden]
    readonly long _groupWidth;
    readonly bool _normAfterGrouping;

    public Qwen3PatchMerger(WeightLoader weights, string name, VisionConfig config, bool normAfterGrouping) : base(name)
    {
        _groupWidth = (long)config.HiddenSize * config.SpatialMergeSize * config.SpatialMergeSize;
        _normAfterGrouping = normAfterGrouping;
        _norm = new VisionLayerNorm(weights, $"{name}.norm", normAfterGrouping ? _groupWidth : config.HiddenSize, config.RmsNormEps);
        _fc1 = new LinearProjection(weights, $"{name}.linear_fc1", _groupWidth, _groupWidth, true);
        _fc2 = new LinearProjection(weights, $"{name}.linear_fc2", _groupWidth, config.OutHiddenSize, true);
        RegisterComponents();
    }

    public IEnumerable<LinearProjection> Projections => [_fc1, _fc2];

    /// <summary>x: [1, N, hidden] → [N/4, out_hidden].</summary>
    public Tensor Forward(Tensor x, ForwardContext context)
    {
        var grouped = _normAfterGrouping ? _norm.Forward(x.reshape(-1, _groupWidth)) : _norm.Forward(x).reshape(-1, _groupWidth);
        return _fc2.Forward(nn.functional.gelu(_fc1.Forward(grouped, context)), context);
    }
}
