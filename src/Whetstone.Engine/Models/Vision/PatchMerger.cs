using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>The projector (Qwen2_5_VLPatchMerger): RMSNorm each patch, concatenate each 2×2 group
/// of neighbouring patches (contiguous in the patch order) and map them through a GELU MLP into
/// the LM's embedding space: 4 patches → 1 LM position.</summary>
internal sealed class PatchMerger : nn.Module
{
    [ComponentName(Name = "ln_q")] readonly RmsNorm _norm;
    [ComponentName(Name = "mlp")] readonly MergerMlp _mlp;
    readonly long _groupWidth;

    public PatchMerger(WeightLoader weights, string name, VisionConfig config) : base(name)
    {
        _groupWidth = (long)config.HiddenSize * config.SpatialMergeSize * config.SpatialMergeSize;
        _norm = new RmsNorm(weights, $"{name}.ln_q", config.HiddenSize, config.RmsNormEps);
        _mlp = new MergerMlp(weights, $"{name}.mlp", _groupWidth, config.OutHiddenSize);
        RegisterComponents();
    }

    public IEnumerable<LinearProjection> Projections => [_mlp.First, _mlp.Second];

    /// <summary>x: [1, N, hidden] → [1, N/4, out_hidden].</summary>
    public Tensor Forward(Tensor x, ForwardContext context)
    {
        var grouped = _norm.Forward(x).reshape(1, -1, _groupWidth);                 // [1, N/4, 4·hidden]
        return _mlp.Second.Forward(nn.functional.gelu(_mlp.First.Forward(grouped, context)), context);
    }
}

/// <summary>nn.Sequential(Linear, GELU, Linear): the GELU at index 1 has no weights, so the
/// Hugging Face names are mlp.0 and mlp.2.</summary>
internal sealed class MergerMlp : nn.Module
{
    [ComponentName(Name = "0")] readonly LinearProjection _first;   // weight [4·hidden, 4·hidden]
    [ComponentName(Name = "2")] readonly LinearProjection _second;  // weight [out_hidden, 4·hidden]

    public MergerMlp(WeightLoader weights, string name, long groupWidth, long outHidden) : base(name)
    {
        _first = new LinearProjection(weights, $"{name}.0", groupWidth, groupWidth, true);
        _second = new LinearProjection(weights, $"{name}.2", groupWidth, outHidden, true);
        RegisterComponents();
    }

    public LinearProjection First => _first;
    public LinearProjection Second => _second;
}
