using Whetstone.Client;
using Whetstone.Chat;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Preference;

/// <summary>Prompt + response as a datum whose "weights" mark the response's tokens (the
/// assistant turn and its end-of-turn token): a forward pass then gives per-token logprobs, and
/// Σ logprob · weight is the log-likelihood of the response given the prompt.</summary>
public static class PreferenceDatums
{
    public static Datum Response(IRenderer renderer, IReadOnlyList<ChatMessage> prompt, string response)
    {
        var example = renderer.BuildSupervisedExample([.. prompt, ChatMessage.Assistant(response)], TrainOnWhat.LastAssistantMessage);
        return Datums.ForCrossEntropy(example.Tokens, example.Weights);
    }

    /// <summary>[chosen, rejected] of each pair, in order.</summary>
    public static List<Datum> Pairs(IRenderer renderer, IEnumerable<PreferencePair> pairs) =>
        pairs.SelectMany(p => new[] { Response(renderer, p.Prompt, p.Chosen), Response(renderer, p.Prompt, p.Rejected) }).ToList();

    /// <summary>The whole sequence (prompt and response) as tokens: what a reward model scores.</summary>
    public static ModelInput Sequence(IRenderer renderer, IReadOnlyList<ChatMessage> prompt, string response) =>
        ModelInput.FromTokens(renderer.BuildSupervisedExample([.. prompt, ChatMessage.Assistant(response)], TrainOnWhat.LastAssistantMessage).Tokens);

    public static IReadOnlyList<double> Mask(Datum datum) => datum.LossFnInputs["weights"].Data;

    /// <summary>Σ logprob · weight over the response tokens.</summary>
    public static double ResponseLogprob(IReadOnlyList<float> logprobs, IReadOnlyList<double> mask)
    {
        double sum = 0;
        for (int t = 0; t < logprobs.Count; t++) sum += logprobs[t] * mask[t];
        return sum;
    }
}
