using System.Text.RegularExpressions;

namespace Whetstone.Engine.Lora;

/// <summary>Shared-A expert adapters (<see cref="LoraConfig.SharedExpertA"/>): the routed experts
/// of one layer share one A per projection and keep a B each, so the expert part of the adapter
/// has rank·in + E·out·rank parameters instead of E·rank·(in + out). PEFT has no layout for a
/// shared factor, so training checkpoints name it without an expert index
/// ("model.layers.3.mlp.experts.gate_proj.lora_A.weight") and a PEFT export writes the shared A
/// under every expert's name (a plain per-expert adapter with equal A's, which any PEFT loader
/// reads and computes identically).</summary>
public static partial class SharedExpertA
{
    [GeneratedRegex(@"^(?<experts>.+\.mlp\.experts)\.\d+\.(?<projection>gate_proj|up_proj|down_proj)$")]
    private static partial Regex RoutedExpertProjection();

    /// <summary>The name of the A a routed expert's projection shares (its layer's experts
    /// without the index), or null for any other target (attention, dense MLP, shared experts).</summary>
    public static string? GroupOf(string targetName)
    {
        var match = RoutedExpertProjection().Match(targetName);
        return match.Success ? $"{match.Groups["experts"].Value}.{match.Groups["projection"].Value}" : null;
    }

    /// <summary>The checkpoint name of a target's A under <paramref name="config"/>.</summary>
    public static string ParameterNameOfA(LoraConfig config, string targetName) =>
        (config.SharedExpertA ? GroupOf(targetName) ?? targetName : targetName) + ".lora_A.weight";
}
