namespace Whetstone.Protocol;

/// <summary>One example: model input plus named per-token loss inputs ("target_tokens" int64;
/// "weights", "logprobs", "advantages" float32; "logprob_gradients" float32 for custom losses).</summary>
public sealed record Datum(ModelInput ModelInput, IReadOnlyDictionary<string, TensorData> LossFnInputs)
{
    /// <summary>Routing replay (mixture-of-experts models): the sampler's experts for every
    /// model_input token; the learner runs them instead of choosing its own.</summary>
    public RoutedExperts? RoutedExperts { get; init; }
}

public sealed record CreateTrainingRunRequest(string BaseModel)
{
    public int Rank { get; init; } = 32;
    public double? Alpha { get; init; }
    public bool TrainAttn { get; init; } = true;
    public bool TrainMlp { get; init; } = true;
    public bool TrainUnembed { get; init; } = true;
    /// <summary>Vision-language models: LoRA also on the vision tower's blocks (attention and
    /// MLP); the projector follows train_mlp. Off by default, as the tower is usually kept.</summary>
    public bool TrainVisionTower { get; init; }
    /// <summary>Mixture-of-experts models: the routed experts of a layer share one LoRA A per
    /// projection, each keeping its own B (about half the expert adapter's parameters at equal rank).</summary>
    public bool SharedExpertA { get; init; }
    public long Seed { get; init; }
    /// <summary>Train every parameter instead of a LoRA adapter (small models).</summary>
    public bool FullFineTuning { get; init; }
    /// <summary>A reward model: the LoRA adapter plus a scalar head on the last token's final
    /// hidden state, trained with the value losses (bradley_terry, binary_logistic) and read with
    /// score. Not with full_fine_tuning.</summary>
    public bool ValueHead { get; init; }
    public IReadOnlyDictionary<string, string>? UserMetadata { get; init; }
    /// <summary>The SDK session (see <see cref="SessionRoutes"/>) the run belongs to, if any.</summary>
    public string? SessionId { get; init; }
}

/// <summary>A new run starting from a saved training state (whet://run/weights/name).</summary>
public sealed record CreateTrainingRunFromStateRequest(string Path)
{
    public bool WithOptimizer { get; init; }
    public IReadOnlyDictionary<string, string>? UserMetadata { get; init; }
}

/// <summary>A new LoRA run continuing an external adapter: a zip of a PEFT directory
/// (adapter_config.json + adapter_model.safetensors), base64 in the JSON body.</summary>
public sealed record ImportPeftAdapterRequest(string BaseModel, string ArchiveBase64)
{
    public IReadOnlyDictionary<string, string>? UserMetadata { get; init; }
}

/// <summary>forward and forward_backward. loss_fn: cross_entropy, importance_sampling, ppo,
/// cispo, dro — or "custom", where loss_fn_inputs carry "logprob_gradients" (dL/dlogprob,
/// computed by the client) applied through the linear surrogate. A value_head run also takes
/// the sequence-level losses "bradley_terry" (data laid out [chosen, rejected, …]; each
/// model_input a whole sequence, no loss_fn_inputs) and "binary_logistic" (loss_fn_inputs
/// "label": one float32, 1 = thumbs up, 0 = down); both are summed, and each output then
/// carries the sequence's value and empty logprobs.</summary>
public sealed record ForwardBackwardRequest(IReadOnlyList<Datum> Data, string LossFn)
{
    public IReadOnlyDictionary<string, double>? LossFnConfig { get; init; }
}

public sealed record ForwardBackwardOutput(IReadOnlyList<LossFnOutput> LossFnOutputs, IReadOnlyDictionary<string, double> Metrics);

public sealed record LossFnOutput(TensorData Logprobs)
{
    /// <summary>The value head's scalar for this datum (value losses only).</summary>
    public double? Value { get; init; }
}

/// <summary>score: a value_head run's scalar for each whole sequence, no gradient.</summary>
public sealed record ScoreRequest(IReadOnlyList<ModelInput> Inputs);

public sealed record ScoreOutput(IReadOnlyList<double> Values);

public sealed record AdamParams
{
    public double LearningRate { get; init; } = 1e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Eps { get; init; } = 1e-12;
    public double WeightDecay { get; init; }
    public double GradClipNorm { get; init; }
    /// <summary>Whetstone's addition: the vision tower's learning rate as a fraction of
    /// learning_rate (1 = the same); see the engine's AdamParams for why a VLM trained from
    /// scratch needs it below 1.</summary>
    public double VisionLearningRateScale { get; init; } = 1;
}

public sealed record OptimStepRequest(AdamParams AdamParams);

public sealed record OptimStepOutput(long Step, IReadOnlyDictionary<string, double> Metrics);

/// <summary>A save's name (null only for an ephemeral sampler save, whose name the server
/// picks), with an optional TTL: the checkpoint expires that many seconds after the save.</summary>
public sealed record SaveStateRequest(string? Name)
{
    public double? TtlSeconds { get; init; }
    /// <summary>save_weights_for_sampler only: a checkpoint to sample from now, not kept. It is
    /// left out of checkpoint lists and expires (after TtlSeconds, else an hour).</summary>
    public bool Ephemeral { get; init; }
}

public sealed record SaveStateOutput(string Path);

public sealed record LoadStateRequest(string Path)
{
    public bool WithOptimizer { get; init; }
}

public sealed record TrainingRunInfo(string RunId, string BaseModel)
{
    public int? Rank { get; init; }
    public double? Alpha { get; init; }
    /// <summary>Tinker's get_info: the base model's architecture (its Hugging Face model_type,
    /// e.g. "qwen3"), whether the run trains a LoRA adapter and that adapter's rank (null for
    /// full fine-tuning).</summary>
    public string? Architecture { get; init; }
    public bool IsLora { get; init; }
    public int? LoraRank { get; init; }
    public bool TrainAttn { get; init; }
    public bool TrainMlp { get; init; }
    public bool TrainUnembed { get; init; }
    public bool TrainVisionTower { get; init; }
    public bool FullFineTuning { get; init; }
    public bool ValueHead { get; init; }
    public long Step { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastRequestAt { get; init; }
    public string? LastCheckpoint { get; init; }
    public string? LastSamplerCheckpoint { get; init; }
    public IReadOnlyDictionary<string, string>? UserMetadata { get; init; }
    public TokenizerInfo? Tokenizer { get; init; }
}

public sealed record TokenizerInfo(int VocabSize, int? BosTokenId, IReadOnlyList<int> EosTokenIds);
