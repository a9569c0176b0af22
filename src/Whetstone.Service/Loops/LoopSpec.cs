using System.Text.Json;
using Whetstone.Protocol;

namespace Whetstone.Service.Loops;

/// <summary>A loop's settings as stored (spec_json), with their checks: every refusal names the
/// field, the value and the limit.</summary>
internal sealed record LoopSpec(LoopTrigger Trigger, LoopRlSettings Rl, LoopGateSettings Gate, LoopCanarySettings Canary)
{
    public string ToJson() => JsonSerializer.Serialize(this, ProtocolJson.Options);

    public static LoopSpec FromJson(string json) => JsonSerializer.Deserialize<LoopSpec>(json, ProtocolJson.Options)!;

    public LoopSpec Validated()
    {
        if (Trigger.EveryFeedback is null && Trigger.EveryMinutes is null)
            throw ApiError.BadRequest("trigger", "needs every_feedback or every_minutes (or both)");
        if (Trigger.EveryFeedback is < 1 or > 1_000_000) throw Range("trigger.every_feedback", Trigger.EveryFeedback, "1 to 1000000");
        if (Trigger.EveryMinutes is { } m && !(m > 0 && m <= 525_600)) throw Range("trigger.every_minutes", m, "above 0, at most 525600");
        if (Rl.Steps is < 1 or > 100) throw Range("rl.steps", Rl.Steps, "1 to 100");
        if (Rl.PromptsPerStep is < 1 or > 64) throw Range("rl.prompts_per_step", Rl.PromptsPerStep, "1 to 64");
        if (Rl.GroupSize is < 2 or > 64) throw Range("rl.group_size", Rl.GroupSize, "2 to 64");
        if (!(Rl.LearningRate > 0 && Rl.LearningRate <= 1)) throw Range("rl.learning_rate", Rl.LearningRate, "above 0, at most 1");
        if (!(Rl.KlCoef >= 0 && Rl.KlCoef <= 100)) throw Range("rl.kl_coef", Rl.KlCoef, "0 to 100");
        if (Rl.MaxTokens is < 1 or > 4096) throw Range("rl.max_tokens", Rl.MaxTokens, "1 to 4096");
        if (!(Rl.Temperature > 0 && Rl.Temperature <= 2)) throw Range("rl.temperature", Rl.Temperature, "above 0, at most 2");
        if (!(Rl.RmWeight >= 0 && Rl.RmWeight <= 100)) throw Range("rl.rm_weight", Rl.RmWeight, "0 to 100");
        if (Rl.PromptWindow is < 1 or > 100_000) throw Range("rl.prompt_window", Rl.PromptWindow, "1 to 100000");
        if (!(Rl.CorrectionSftWeight >= 0 && Rl.CorrectionSftWeight <= 100)) throw Range("rl.correction_sft_weight", Rl.CorrectionSftWeight, "0 to 100");
        if (Rl.CorrectionWindow is < 0 or > 10_000) throw Range("rl.correction_window", Rl.CorrectionWindow, "0 to 10000");
        if (Rl.CorrectionWindowPolicy is not (LoopRlSettings.CorrectionWindowNewest or LoopRlSettings.CorrectionWindowAdaptive))
            throw ApiError.BadRequest("rl.correction_window_policy", $"'{Rl.CorrectionWindowPolicy}' must be newest or adaptive");
        if (!(Rl.AnchorWeight >= 0 && Rl.AnchorWeight <= 100)) throw Range("rl.anchor_weight", Rl.AnchorWeight, "0 to 100");
        if (Rl.AnchorPrompts is < 1 or > 256) throw Range("rl.anchor_prompts", Rl.AnchorPrompts, "1 to 256");
        if (Rl.AnchorScope is not (LoopRlSettings.AnchorScopeAnswer or LoopRlSettings.AnchorScopeSteps))
            throw ApiError.BadRequest("rl.anchor_scope", $"'{Rl.AnchorScope}' must be answer or steps");
        if (Rl.MinCorrections is < 0 or > 10_000) throw Range("rl.min_corrections", Rl.MinCorrections, "0 to 10000");
        if (!(Rl.MinRmAccuracy >= 0 && Rl.MinRmAccuracy <= 1)) throw Range("rl.min_rm_accuracy", Rl.MinRmAccuracy, "0 to 1");
        if (Rl.MinRmPredictions is < 0 or > 1_000_000) throw Range("rl.min_rm_predictions", Rl.MinRmPredictions, "0 to 1000000");
        if (Rl.RmTrustWindow is < 1 or > 1_000_000) throw Range("rl.rm_trust_window", Rl.RmTrustWindow, "1 to 1000000");
        if (Rl.Verifiable is { } v)
        {
            if (v.MustContain is null && v.MustNotContain is null && v.MaxWords is null && !v.Arithmetic)
                throw ApiError.BadRequest("rl.verifiable", "needs must_contain, must_not_contain, max_words or arithmetic");
            if (v.MaxWords is < 1) throw Range("rl.verifiable.max_words", v.MaxWords, "at least 1");
            if (!double.IsFinite(v.Weight)) throw Range("rl.verifiable.weight", v.Weight, "a finite number");
        }
        if (Gate.HeldOutPrompts is < 0 or > 1024) throw Range("gate.held_out_prompts", Gate.HeldOutPrompts, "0 to 1024");
        if (!(Gate.Tolerance >= 0 && double.IsFinite(Gate.Tolerance))) throw Range("gate.tolerance", Gate.Tolerance, "a finite number ≥ 0");
        if (Gate.MaxTokens is < 1 or > 4096) throw Range("gate.max_tokens", Gate.MaxTokens, "1 to 4096");
        if (!(Gate.MinImprovement >= 0 && double.IsFinite(Gate.MinImprovement))) throw Range("gate.min_improvement", Gate.MinImprovement, "a finite number ≥ 0");
        if (Gate.MinChangedAnswers < 0) throw Range("gate.min_changed_answers", Gate.MinChangedAnswers, "at least 0");
        if (Gate.MaxRegressions < 0) throw Range("gate.max_regressions", Gate.MaxRegressions, "at least 0");
        var suite = Gate.RegressionSuite ?? [];
        if (suite.Count > 256) throw Range("gate.regression_suite", suite.Count, "at most 256 checks");
        for (int i = 0; i < suite.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(suite[i].Prompt)) throw ApiError.BadRequest($"gate.regression_suite[{i}].prompt", "is empty");
            if (suite[i].ExpectContains is null && suite[i].ExpectNotContains is null)
                throw ApiError.BadRequest($"gate.regression_suite[{i}]", "needs expect_contains or expect_not_contains");
        }
        if (!(Canary.Percent >= 0 && Canary.Percent < 100)) throw Range("canary.percent", Canary.Percent, "0 (no canary) up to but not including 100");
        if (Canary.MinEvents is < 1 or > 1_000_000) throw Range("canary.min_events", Canary.MinEvents, "1 to 1000000");
        if (!(Canary.Tolerance >= 0 && Canary.Tolerance <= 1)) throw Range("canary.tolerance", Canary.Tolerance, "0 to 1");
        if (!(Canary.Z >= 0 && Canary.Z <= 10)) throw Range("canary.z", Canary.Z, "0 to 10");
        if (!(Canary.MaxMinutes > 0 && Canary.MaxMinutes <= 525_600)) throw Range("canary.max_minutes", Canary.MaxMinutes, "above 0, at most 525600");
        if (Canary.Split is not (LoopCanarySettings.SplitByRequest or LoopCanarySettings.SplitByUser))
            throw ApiError.BadRequest("canary.split", $"'{Canary.Split}' must be request or user");
        if (Canary.Compare is not (LoopCanarySettings.CompareWithinUser or LoopCanarySettings.CompareEvents))
            throw ApiError.BadRequest("canary.compare", $"'{Canary.Compare}' must be within_user or events");
        // A per-user split puts each user on one arm: no user would ever have feedback on both.
        if (Canary.Compare == LoopCanarySettings.CompareWithinUser && Canary.Split != LoopCanarySettings.SplitByRequest)
            throw ApiError.BadRequest("canary.compare", $"'within_user' needs canary.split 'request', not '{Canary.Split}' (a per-user split puts each user on one arm)");
        if (Canary.Design is not (LoopCanarySettings.DesignSequential or LoopCanarySettings.DesignFixed))
            throw ApiError.BadRequest("canary.design", $"'{Canary.Design}' must be sequential or fixed");
        // At least 3 degrees of freedom for the user-level standard error (StudentT is exact enough from there).
        if (Canary.MinUsers is < 4 or > 1_000_000) throw Range("canary.min_users", Canary.MinUsers, "4 to 1000000");
        return this;
    }

    static ApiError Range(string field, object? value, string limit) => ApiError.BadRequest(field, $"= {value} must be {limit}");
}
