using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>The router's parameters, named as in the checkpoints: "mlp.gate.weight" [E, hidden]
/// and, for sigmoid routers, "mlp.gate.e_score_correction_bias" [E] (kept in fp32: it decides
/// between experts whose scores differ in the third decimal).</summary>
internal sealed class MoeGate : nn.Module
{
    [ComponentName(Name = "weight")] readonly Parameter _weight;
    [ComponentName(Name = "e_score_correction_bias")] readonly Parameter? _bias;
    readonly MoeShape _shape;

    public MoeGate(WeightLoader weights, string name, ModelConfig config) : base(name)
    {
        _shape = config.Moe!;
        _weight = weights.Parameter($"{name}.weight", _shape.RoutedExperts, config.HiddenSize);
        if (_shape.ScoreCorrectionBias)
            _bias = weights.ParameterIn($"{name}.e_score_correction_bias", weights.Dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32, _shape.RoutedExperts);
        RegisterComponents();
    }

    public Tensor Weight => _weight;

    /// <summary>x [N, hidden] → experts [N, k], weights [N, k] (fp32, fp64 for fp64 networks).</summary>
    public (Tensor Experts, Tensor Weights) Route(Tensor x, Tensor? replay)
    {
        var routerType = x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var logits = nn.functional.linear(x.to(routerType), _weight.to(routerType));              // [N, E]
        return ExpertRouter.Route(logits, _shape, _bias, replay);
    }
}
