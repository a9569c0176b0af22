using Whetstone.Engine.Models;

namespace Whetstone.Engine.Sampling;

/// <summary>What every sampling path checks before a request is queued, from the model's config
/// alone: a bad request is refused with the field named and nothing runs.</summary>
public static class SampleValidation
{
    /// <summary>One request's samples share one decode batch; past this, ask again.</summary>
    public const int MaxSamplesPerRequest = 256;

    public static void Check(ModelConfig config, SampleRequest r)
    {
        if (r.Prompt.Count == 0) throw new SamplingArgumentException("prompt", "must have at least one token");
        if (r.NumSamples < 1 || r.NumSamples > MaxSamplesPerRequest)
            throw new SamplingArgumentException("num_samples", $"= {r.NumSamples} must be between 1 and {MaxSamplesPerRequest}");
        if (r.TopkPromptLogprobs < 0) throw new SamplingArgumentException("topk_prompt_logprobs", $"= {r.TopkPromptLogprobs} must be ≥ 0");
        CheckTokens(config, "prompt", r.Prompt);
        if (Models.Vision.PlacedImageCheck.Problem(config, r.Prompt, r.Images) is { } problem)
            throw new SamplingArgumentException("prompt" + problem.Field, problem.Message);
        if (r.IncludeRouting && config.Moe is null)
            throw new SamplingArgumentException("include_routing", "is true but the model has no mixture-of-experts layers to route");
        r.Params.Validate(config.VocabSize);
        int limit = config.MaxPositionEmbeddings;
        if (r.Prompt.Count + r.Params.MaxTokens > limit)
            throw new SamplingArgumentException("max_tokens", $"= {r.Params.MaxTokens} with a {r.Prompt.Count}-token prompt exceeds the model's context of {limit} tokens");
    }

    public static void CheckTokens(ModelConfig config, string field, IReadOnlyList<int> tokens)
    {
        int vocab = config.VocabSize;
        for (int i = 0; i < tokens.Count; i++)
            if (tokens[i] < 0 || tokens[i] >= vocab)
                throw new SamplingArgumentException(field, $"[{i}] = {tokens[i]} is outside the vocabulary [0, {vocab})");
    }
}
