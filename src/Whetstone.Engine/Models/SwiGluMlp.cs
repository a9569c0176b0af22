using TorchSharp.Utils;
using TorchSharp;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>down(silu(gate(x)) · up(x)).</summary>
internal sealed class SwiGluMlp : nn.Module
{
    [ComponentName(Name = "gate_proj")] readonly LinearProjection _gateProjection;
    [ComponentName(Name = "up_proj")] readonly LinearProjection _upProjection;
    [ComponentName(Name = "down_proj")] readonly LinearProjection _downProjection;

    public SwiGluMlp(WeightLoader weights, string name, ModelConfig config) : base(name)
    {
        _gateProjection = new LinearProjection(weights, $"{name}.gate_proj", config.HiddenSize, config.IntermediateSize, false);
        _upProjection = new LinearProjection(weights, $"{name}.up_proj", config.HiddenSize, config.IntermediateSize, false);
        _downProjection = new LinearProjection(weights, $"{name}.down_proj", config.IntermediateSize, config.HiddenSize, false);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, ForwardContext context) =>
        _downProjection.Forward(nn.functional.silu(_gateProjection.Forward(x, context)) * _upProjection.Forward(x, context), context);

    public IEnumerable<LinearProjection> Projections => [_gateProjection, _upProjection, _downProjection];
}
