using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// The two requests of <see cref="TrainingClient.ForwardBackwardCustomAsync"/>. A loss the
/// server does not know is trained through the linear surrogate Σ logp · dL/dlogp: its
/// gradient with respect to the weights equals that of L (chain rule through the logprobs),
/// so the server needs only the client's dL/dlogp, sent as "logprob_gradients".
/// </summary>
internal static class CustomLoss
{
    public const string LossFnName = "custom";
    public const string GradientsInput = "logprob_gradients";
    public const string TargetTokensInput = "target_tokens";

    /// <summary>A forward pass that only reads the learner's logprobs: cross-entropy with zero
    /// weights, which every server supports, so the forward contributes no loss.</summary>
    public static ForwardBackwardRequest ForwardRequest(IReadOnlyList<Datum> data) =>
        new(data.Select((datum, i) =>
        {
            var targets = TargetTokens(datum, i);
            return new Datum(datum.ModelInput, new Dictionary<string, TensorData>
            {
                [TargetTokensInput] = targets,
                ["weights"] = TensorData.Float32(new float[targets.Data.Count]),
            });
        }).ToArray(), "cross_entropy");

    public static IReadOnlyList<float[]> Logprobs(ForwardBackwardOutput forward, int dataCount)
    {
        if (forward.LossFnOutputs.Count != dataCount)
            throw new InvalidDataException($"The forward pass answered {forward.LossFnOutputs.Count} outputs for {dataCount} data.");
        return forward.LossFnOutputs.Select(o => o.Logprobs.Data.Select(v => (float)v).ToArray()).ToArray();
    }

    /// <summary>The forward_backward carrying the client's gradients, after checking they have
    /// the shape of the logprobs they differentiate.</summary>
    public static ForwardBackwardRequest GradientRequest(IReadOnlyList<Datum> data, IReadOnlyList<float[]> logprobs, IReadOnlyList<float[]> gradients)
    {
        if (gradients.Count != data.Count)
            throw new ArgumentException($"The custom loss returned {gradients.Count} gradients for {data.Count} data; it must return one per datum.");
        var withGradients = new Datum[data.Count];
        for (var i = 0; i < data.Count; i++)
        {
            if (gradients[i].Length != logprobs[i].Length)
                throw new ArgumentException(
                    $"The custom loss returned {gradients[i].Length} gradients for datum {i}, which has {logprobs[i].Length} logprobs.");
            withGradients[i] = new Datum(data[i].ModelInput, new Dictionary<string, TensorData>
            {
                [TargetTokensInput] = TargetTokens(data[i], i),
                [GradientsInput] = TensorData.Float32(gradients[i]),
            });
        }
        return new ForwardBackwardRequest(withGradients, LossFnName);
    }

    /// <summary>The server reports the surrogate's value, which means nothing to the caller;
    /// "loss:sum" is replaced by the custom loss itself.</summary>
    public static ForwardBackwardOutput WithLoss(ForwardBackwardOutput output, double loss) =>
        output with { Metrics = new Dictionary<string, double>(output.Metrics) { ["loss:sum"] = loss } };

    static TensorData TargetTokens(Datum datum, int index) =>
        datum.LossFnInputs.TryGetValue(TargetTokensInput, out var targets)
            ? targets
            : throw new ArgumentException($"Datum {index} has no \"{TargetTokensInput}\" loss input; a custom loss needs the tokens whose logprobs it differentiates.");
}
