using Whetstone.Engine.Training;
using Whetstone.Service.Images;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>Protocol ↔ engine types. Structural problems (wrong dtype, images for a text model,
/// malformed base64) are refused here, naming the field; the engine's validator checks the rest.</summary>
internal static class ProtocolMapping
{
    /// <summary>Tokens only: images are refused (value heads and other text-only paths).</summary>
    public static int[] Tokens(P.ModelInput? input, string field) => ModelInputReader.Read(input, field, null).Tokens;

    /// <summary>Tokens and images, each image decoded and checked against the model's tower.</summary>
    public static ReadModelInput Read(P.ModelInput? input, string field, ImageInputRules? images) => ModelInputReader.Read(input, field, images);

    public static Datum Datum(P.Datum datum, int index, bool custom, out IReadOnlyList<float>? logprobGradients, ImageInputRules? images = null)
    {
        string at = $"data[{index}]";
        var inputs = datum.LossFnInputs ?? new Dictionary<string, P.TensorData>();
        var known = new HashSet<string> { "target_tokens", "weights", "logprobs", "advantages", "logprob_gradients" };
        foreach (var key in inputs.Keys)
            if (!known.Contains(key)) throw ApiError.BadRequest($"{at}.loss_fn_inputs.{key}", "is not a known loss input (target_tokens, weights, logprobs, advantages, logprob_gradients)");
        logprobGradients = custom ? Floats(inputs, "logprob_gradients", at) ?? throw ApiError.BadRequest($"{at}.loss_fn_inputs.logprob_gradients", "is required by the custom loss") : null;
        var input = Read(datum.ModelInput, $"{at}.model_input", images);
        return new Datum
        {
            InputTokens = input.Tokens,
            Images = input.Images,
            TargetTokens = Ints(inputs, "target_tokens", at) ?? throw ApiError.BadRequest($"{at}.loss_fn_inputs.target_tokens", "is missing"),
            Weights = Floats(inputs, "weights", at),
            Logprobs = Floats(inputs, "logprobs", at),
            Advantages = Floats(inputs, "advantages", at),
            Routing = Routing(datum.RoutedExperts, $"{at}.routed_experts"),
        };
    }

    /// <summary>Whole sequences and, for binary_logistic, one label each (loss_fn_inputs "label");
    /// optionally one weight each (loss_fn_inputs "weight", on every datum or none).</summary>
    public static ValueWork ValueWork(IReadOnlyList<P.Datum>? data, ValueLoss loss)
    {
        if (data is null || data.Count == 0) throw ApiError.BadRequest("data", "is empty");
        var sequences = new IReadOnlyList<int>[data.Count];
        var labels = loss.NeedsLabels ? new float[data.Count] : null;
        bool weighted = data[0].LossFnInputs?.ContainsKey("weight") == true;
        var weights = weighted ? new float[data.Count] : null;
        for (int i = 0; i < data.Count; i++)
        {
            string at = $"data[{i}]";
            var inputs = data[i].LossFnInputs ?? new Dictionary<string, P.TensorData>();
            foreach (var key in inputs.Keys)
                if (!(key == "label" && loss.NeedsLabels) && key != "weight")
                    throw ApiError.BadRequest($"{at}.loss_fn_inputs.{key}", loss.NeedsLabels
                        ? "is not an input of binary_logistic (it takes \"label\" and an optional \"weight\")"
                        : "is not an input of bradley_terry (it takes an optional \"weight\": data are [chosen, rejected] pairs)");
            sequences[i] = Tokens(data[i].ModelInput, $"{at}.model_input");
            if (labels is not null)
            {
                var label = Floats(inputs, "label", at) ?? throw ApiError.BadRequest($"{at}.loss_fn_inputs.label", "is required by binary_logistic");
                if (label.Length != 1) throw ApiError.BadRequest($"{at}.loss_fn_inputs.label", $"has {label.Length} values; give one (1 = thumbs up, 0 = thumbs down)");
                labels[i] = label[0];
            }
            var weight = Floats(inputs, "weight", at);
            if (weighted != weight is not null)
                throw ApiError.BadRequest($"{at}.loss_fn_inputs.weight", weighted ? "is missing: data[0] has a weight, so every datum needs one" : "is given but data[0] has none: weight every datum or none");
            if (weight is not null)
            {
                if (weight.Length != 1) throw ApiError.BadRequest($"{at}.loss_fn_inputs.weight", $"has {weight.Length} values; give one");
                weights![i] = weight[0];
            }
        }
        return new ValueWork(sequences) { Loss = loss, Labels = labels, Weights = weights };
    }

    public static P.ForwardBackwardOutput Output(ValueResult result) => new(
        result.Values.Select(v => new P.LossFnOutput(P.TensorData.Float32(Array.Empty<float>())) { Value = v }).ToArray(),
        result.Metrics);

    // Shape and range are the engine's to check against the model (DatumValidator); here only what JSON can get wrong.
    static Engine.Models.RoutedExperts? Routing(P.RoutedExperts? routing, string field)
    {
        if (routing is null) return null;
        if (routing.Layers is null || routing.Experts is null) throw ApiError.BadRequest(field, "needs layers and experts");
        if (routing.ExpertsPerToken <= 0) throw ApiError.BadRequest($"{field}.experts_per_token", $"= {routing.ExpertsPerToken} must be positive");
        return new Engine.Models.RoutedExperts(routing.Layers.ToArray(), routing.ExpertsPerToken, routing.Experts.ToArray());
    }

    static int[]? Ints(IReadOnlyDictionary<string, P.TensorData> inputs, string name, string at)
    {
        if (!inputs.TryGetValue(name, out var tensor)) return null;
        string field = $"{at}.loss_fn_inputs.{name}";
        if (tensor.Dtype != "int64") throw ApiError.BadRequest(field, $"has dtype '{tensor.Dtype}', expected int64");
        var data = tensor.Data ?? throw ApiError.BadRequest(field, "has no data");
        var result = new int[data.Count];
        for (int i = 0; i < data.Count; i++)
        {
            if (data[i] != Math.Floor(data[i]) || data[i] < int.MinValue || data[i] > int.MaxValue)
                throw ApiError.BadRequest(field, $"[{i}] = {data[i]} is not an integer");
            result[i] = (int)data[i];
        }
        return result;
    }

    static float[]? Floats(IReadOnlyDictionary<string, P.TensorData> inputs, string name, string at)
    {
        if (!inputs.TryGetValue(name, out var tensor)) return null;
        string field = $"{at}.loss_fn_inputs.{name}";
        if (tensor.Dtype != "float32") throw ApiError.BadRequest(field, $"has dtype '{tensor.Dtype}', expected float32");
        return (tensor.Data ?? throw ApiError.BadRequest(field, "has no data")).Select(v => (float)v).ToArray();
    }

    public static AdamParams Adam(P.AdamParams? p)
    {
        p ??= new P.AdamParams();
        return new AdamParams
        {
            LearningRate = p.LearningRate, Beta1 = p.Beta1, Beta2 = p.Beta2, Eps = p.Eps,
            WeightDecay = p.WeightDecay, GradClipNorm = p.GradClipNorm, VisionLearningRateScale = p.VisionLearningRateScale,
        };
    }

    public static P.ForwardBackwardOutput Output(LearnerResult result) => new(
        result.Logprobs.Select(l => new P.LossFnOutput(P.TensorData.Float32(l))).ToArray(),
        result.Metrics);

    public static Engine.Sampling.SamplingParams Sampling(P.SamplingParams? p)
    {
        p ??= new P.SamplingParams();
        return new Engine.Sampling.SamplingParams
        {
            MaxTokens = p.MaxTokens, Temperature = p.Temperature, TopK = p.TopK, TopP = p.TopP,
            Stop = p.Stop ?? [], StopTokenIds = p.StopTokenIds ?? [], Seed = p.Seed,
        };
    }

    public static P.SampleOutput Output(Engine.Sampling.SampleResult result) => new(
        result.Sequences.Select(s => new P.SampledSequence(s.Tokens, s.Logprobs.Select(l => (double)l).ToArray(),
            s.StopReason == Engine.Sampling.StopReason.Stop ? "stop" : "length")
        {
            RoutedExperts = s.Routing is { } r ? new P.RoutedExperts(r.Layers, r.ExpertsPerToken, r.Experts) : null,
        }).ToArray())
    {
        PromptLogprobs = result.PromptLogprobs?.Select(l => (double?)l).ToArray(),
        TopkPromptLogprobs = result.TopkPromptLogprobs?.Select(t => (IReadOnlyList<P.TopkLogprob>?)t?.Select(x => new P.TopkLogprob(x.Token, x.Logprob)).ToArray()).ToArray(),
    };
}
