using System.Text.Json.Nodes;

namespace Whetstone.Engine.Models;

/// <summary>How a router scores experts: DeepSeek-V3 / Kimi K2 use independent sigmoids (plus a
/// load-balancing bias for the choice only); Qwen3-MoE a softmax over all experts.</summary>
public enum RouterScoring { Sigmoid, Softmax }

/// <summary>The mixture-of-experts part of a config, named as in config.json. One record serves
/// both families: DeepSeek spells the expert count n_routed_experts and places sparse layers with
/// first_k_dense_replace / moe_layer_freq; Qwen3-MoE spells it num_experts and places them with
/// decoder_sparse_step / mlp_only_layers. Each family's unused placement keys keep their neutral
/// defaults, so <see cref="IsSparseLayer"/> is both rules at once.</summary>
public sealed record MoeShape
{
    public required RouterScoring Scoring { get; init; }
    public required int RoutedExperts { get; init; }
    public required int ExpertsPerToken { get; init; }
    public required int MoeIntermediateSize { get; init; }
    /// <summary>Always-on experts beside the routed ones (DeepSeek; one SwiGLU of width
    /// n_shared_experts · moe_intermediate_size).</summary>
    public int SharedExperts { get; init; }
    public int FirstKDenseReplace { get; init; }
    public int MoeLayerFreq { get; init; } = 1;
    public int DecoderSparseStep { get; init; } = 1;
    public IReadOnlyList<int> MlpOnlyLayers { get; init; } = [];
    /// <summary>Group-limited routing: experts split into n_group groups; a token picks its
    /// topk_group best groups (by the sum of each group's two best scores) and chooses experts only there.</summary>
    public int NGroup { get; init; } = 1;
    public int TopkGroup { get; init; } = 1;
    public bool NormTopkProb { get; init; }
    public double RoutedScalingFactor { get; init; } = 1.0;
    /// <summary>Sigmoid routers only: a per-expert bias (e_score_correction_bias) added to the
    /// scores used to choose experts, never to the gate weights (DeepSeek's "noaux_tc").</summary>
    public bool ScoreCorrectionBias => Scoring == RouterScoring.Sigmoid;

    public bool IsSparseLayer(int layer) =>
        layer >= FirstKDenseReplace && layer % MoeLayerFreq == 0 && (layer + 1) % DecoderSparseStep == 0 && !MlpOnlyLayers.Contains(layer);

    /// <summary>Null when the config has no routed experts (a dense model of the family).</summary>
    internal static MoeShape? Parse(JsonObject json, ModelFamily family)
    {
        if (family == ModelFamily.DeepseekV3)
        {
            if (json["n_routed_experts"] is null) return null;
            string scoring = json["scoring_func"]?.GetValue<string>() ?? "sigmoid";
            if (scoring != "sigmoid") throw new ModelConfigException("scoring_func", $"= '{scoring}' is not supported (DeepSeek-V3 routing: sigmoid)");
            string method = json["topk_method"]?.GetValue<string>() ?? "noaux_tc";
            if (method is not ("noaux_tc" or "greedy"))
                throw new ModelConfigException("topk_method", $"= '{method}' is not supported (noaux_tc, greedy)");
            var shape = new MoeShape
            {
                Scoring = RouterScoring.Sigmoid,
                RoutedExperts = ModelConfig.RequiredInt(json, "n_routed_experts"),
                ExpertsPerToken = ModelConfig.RequiredInt(json, "num_experts_per_tok"),
                MoeIntermediateSize = ModelConfig.RequiredInt(json, "moe_intermediate_size"),
                SharedExperts = ModelConfig.OptionalInt(json, "n_shared_experts") ?? 0,
                FirstKDenseReplace = ModelConfig.OptionalInt(json, "first_k_dense_replace") ?? 0,
                MoeLayerFreq = ModelConfig.OptionalInt(json, "moe_layer_freq") ?? 1,
                NGroup = method == "greedy" ? 1 : ModelConfig.OptionalInt(json, "n_group") ?? 1,
                TopkGroup = method == "greedy" ? 1 : ModelConfig.OptionalInt(json, "topk_group") ?? 1,
                NormTopkProb = json["norm_topk_prob"]?.GetValue<bool>() ?? false,
                RoutedScalingFactor = ModelConfig.AsDouble(json["routed_scaling_factor"]) ?? 1.0,
            };
            return shape.Checked();
        }
        if (json["num_experts"] is null || ModelConfig.OptionalInt(json, "num_experts") == 0) return null;
        return new MoeShape
        {
            Scoring = RouterScoring.Softmax,
            RoutedExperts = ModelConfig.RequiredInt(json, "num_experts"),
            ExpertsPerToken = ModelConfig.RequiredInt(json, "num_experts_per_tok"),
            MoeIntermediateSize = ModelConfig.RequiredInt(json, "moe_intermediate_size"),
            DecoderSparseStep = ModelConfig.OptionalInt(json, "decoder_sparse_step") ?? 1,
            MlpOnlyLayers = json["mlp_only_layers"] is JsonArray layers ? layers.Select(n => n!.GetValue<int>()).ToArray() : [],
            NormTopkProb = json["norm_topk_prob"]?.GetValue<bool>() ?? false,
        }.Checked();
    }

    MoeShape Checked()
    {
        if (ExpertsPerToken > RoutedExperts)
            throw new ModelConfigException("num_experts_per_tok", $"= {ExpertsPerToken} exceeds the {RoutedExperts} routed experts");
        if (MoeLayerFreq <= 0) throw new ModelConfigException("moe_layer_freq", $"= {MoeLayerFreq} must be positive");
        if (DecoderSparseStep <= 0) throw new ModelConfigException("decoder_sparse_step", $"= {DecoderSparseStep} must be positive");
        if (NGroup <= 0 || RoutedExperts % NGroup != 0)
            throw new ModelConfigException("n_group", $"= {NGroup} must divide n_routed_experts = {RoutedExperts}");
        if (TopkGroup <= 0 || TopkGroup > NGroup)
            throw new ModelConfigException("topk_group", $"= {TopkGroup} must be between 1 and n_group = {NGroup}");
        if (NGroup > 1 && RoutedExperts / NGroup < 2)
            throw new ModelConfigException("n_group", $"= {NGroup} leaves fewer than 2 experts per group (group scores sum each group's best two)");
        if (NGroup > 1 && ExpertsPerToken > TopkGroup * (RoutedExperts / NGroup))
            throw new ModelConfigException("num_experts_per_tok", $"= {ExpertsPerToken} exceeds the experts of topk_group = {TopkGroup} groups");
        return this;
    }

    internal void WriteTo(JsonObject json, ModelFamily family)
    {
        if (family == ModelFamily.DeepseekV3)
        {
            json["n_routed_experts"] = RoutedExperts;
            json["n_shared_experts"] = SharedExperts;
            json["first_k_dense_replace"] = FirstKDenseReplace;
            json["moe_layer_freq"] = MoeLayerFreq;
            json["scoring_func"] = "sigmoid";
            json["topk_method"] = "noaux_tc";
            json["n_group"] = NGroup;
            json["topk_group"] = TopkGroup;
            json["routed_scaling_factor"] = RoutedScalingFactor;
        }
        else
        {
            json["num_experts"] = RoutedExperts;
            json["decoder_sparse_step"] = DecoderSparseStep;
            json["mlp_only_layers"] = new JsonArray(MlpOnlyLayers.Select(i => (JsonNode)i).ToArray());
        }
        json["num_experts_per_tok"] = ExpertsPerToken;
        json["moe_intermediate_size"] = MoeIntermediateSize;
        json["norm_topk_prob"] = NormTopkProb;
    }
}
