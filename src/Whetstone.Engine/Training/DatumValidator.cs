using Whetstone.Engine.Models;

namespace Whetstone.Engine.Training;

/// <summary>Checks a run's data against its loss and the model before any computation, so a bad
/// request fails with the field named and leaves gradients, weights and optimizer untouched.</summary>
internal static class DatumValidator
{
    public static void Check(ModelConfig config, LearnerWork work)
    {
        if (work.Data.Count == 0) throw new TrainingArgumentException("data", "is empty");
        if ((work.Loss is null) == (work.LogprobGradients is null))
            throw new TrainingArgumentException("loss_fn", "give either a built-in loss or logprob gradients for a custom loss");
        if (work.LogprobGradients is not null && work.LogprobGradients.Count != work.Data.Count)
            throw new TrainingArgumentException("logprob_gradients", $"has {work.LogprobGradients.Count} entries for {work.Data.Count} data");

        for (int i = 0; i < work.Data.Count; i++)
        {
            var d = work.Data[i];
            string at = $"data[{i}]";
            if (d.Length == 0) throw new TrainingArgumentException($"{at}.model_input", "is empty");
            if (d.Length > config.MaxPositionEmbeddings)
                throw new TrainingArgumentException($"{at}.model_input", $"has {d.Length} tokens, more than the model's maximum of {config.MaxPositionEmbeddings}");
            CheckTokens($"{at}.model_input", d.InputTokens, config.VocabSize);
            if (Models.Vision.PlacedImageCheck.Problem(config, d.InputTokens, d.Images) is { } problem)
                throw new TrainingArgumentException($"{at}.model_input{problem.Field}", problem.Message);
            if (d.Routing?.Problem(config, d.Length) is { } routingProblem)
                throw new TrainingArgumentException($"{at}.routed_experts", routingProblem);
            CheckLength($"{at}.loss_fn_inputs.target_tokens", d.TargetTokens.Count, d.Length);
            CheckTokens($"{at}.loss_fn_inputs.target_tokens", d.TargetTokens, config.VocabSize);
            if (work.Loss is LossSpec spec)
            {
                var needs = spec.Needs;
                if (needs.Weights) CheckFloats($"{at}.loss_fn_inputs.weights", d.Weights, d.Length, spec.Name);
                if (needs.Logprobs) CheckFloats($"{at}.loss_fn_inputs.logprobs", d.Logprobs, d.Length, spec.Name);
                if (needs.Advantages) CheckFloats($"{at}.loss_fn_inputs.advantages", d.Advantages, d.Length, spec.Name);
            }
            else
            {
                CheckFloats($"logprob_gradients[{i}]", work.LogprobGradients![i], d.Length, "a custom loss");
            }
        }
    }

    static void CheckTokens(string field, IReadOnlyList<int> tokens, int vocab)
    {
        for (int t = 0; t < tokens.Count; t++)
            if (tokens[t] < 0 || tokens[t] >= vocab)
                throw new TrainingArgumentException(field, $"[{t}] = {tokens[t]} is outside the vocabulary [0, {vocab})");
    }

    static void CheckLength(string field, int actual, int expected)
    {
        if (actual != expected) throw new TrainingArgumentException(field, $"has length {actual}, expected {expected} (the input's length)");
    }

    static void CheckFloats(string field, IReadOnlyList<float>? values, int expected, string loss)
    {
        if (values is null) throw new TrainingArgumentException(field, $"is required by {loss}");
        CheckLength(field, values.Count, expected);
        for (int t = 0; t < values.Count; t++)
            if (!float.IsFinite(values[t])) throw new TrainingArgumentException(field, $"[{t}] = {values[t]} is not finite");
    }
}
