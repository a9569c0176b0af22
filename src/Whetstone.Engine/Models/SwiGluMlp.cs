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

    public SwiGluMlp(WeightLoader weights, string name, ModelConfig config) : this(weights, name, config.HiddenSize, config.IntermediateSize) { }

    /// <summary>An expert (or DeepSeek's shared experts) is the same block at its own width.</summary>
    public SwiGluMlp(WeightLoader weights, string name, long hidden, long intermediate) : base(name)
    {
        _gateProjection = new LinearProjection(weights, $"{name}.gate_proj", hidden, intermediate, false);
        _upProjection = new LinearProjection(weights, $"{name}.up_proj", hidden, intermediate, false);
        _downProjection = new LinearProjection(weights, $"{name}.down_proj", intermediate, hidden, false);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, ForwardContext context) => Forward(x, context.Adapters);

    public Tensor Forward(Tensor x, Lora.AdapterBatch? adapters) =>
        _downProjection.Forward(nn.functional.silu(_gateProjection.Forward(x, adapters)) * _upProjection.Forward(x, adapters), adapters);

    public IEnumerable<LinearProjection> Projections => [_gateProjection, _upProjection, _downProjection];
}
