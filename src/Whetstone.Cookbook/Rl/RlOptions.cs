namespace Whetstone.Cookbook.Rl;

/// <summary>Settings of an RL run (<see cref="RlRecipe"/>).</summary>
public sealed record RlOptions
{
    public required string BaseModel { get; init; }
    /// <summary>metrics.jsonl, reward.png, eval.png and the resume record go here.</summary>
    public required string OutputDirectory { get; init; }
    /// <summary>arithmetic, instruction or guess-number (<see cref="RlEnvironments"/>).</summary>
    public string Env { get; init; } = "arithmetic";
    public int MinDigits { get; init; } = 4;
    public int MaxDigits { get; init; } = 5;
    public int GuessUpper { get; init; } = 16;
    public int GuessTurns { get; init; } = 5;
    /// <summary>Subtracted from the reward of a reply without a parsable answer.</summary>
    public double FormatPenalty { get; init; } = 0.1;

    public int Rank { get; init; } = 32;
    /// <summary>A saved training state (whet://…/weights/…, e.g. an SFT run's) whose weights the
    /// run starts from, with a fresh optimizer, so RL continues that policy; its rank and base
    /// model must be <see cref="Rank"/> and <see cref="BaseModel"/>. Null: a fresh adapter.</summary>
    public string? InitFrom { get; init; }
    /// <summary>Train every weight instead of a LoRA adapter (then <see cref="Rank"/> is unused);
    /// each step's sampler is then a whole model the service loads for the sampling session.</summary>
    public bool FullFineTuning { get; init; }
    public double LearningRate { get; init; } = 3e-4;
    /// <summary>Attempts per problem (G); advantages are centred within each group.</summary>
    public int GroupSize { get; init; } = 8;
    public int GroupsPerBatch { get; init; } = 16;
    public int Steps { get; init; } = 20;
    public int MaxTokens { get; init; } = 128;
    public double Temperature { get; init; } = 1.0;
    /// <summary>importance_sampling, ppo, cispo or dro.</summary>
    public string LossFn { get; init; } = "importance_sampling";
    public IReadOnlyDictionary<string, double>? LossFnConfig { get; init; }
    /// <summary>Truncated importance sampling: importance_sampling's ratios capped at this
    /// (loss_fn_config.tis_cap); null: uncapped.</summary>
    public double? TisCap { get; init; }
    /// <summary>Routing replay (MoE models): rollouts return each sample's experts and training
    /// runs those experts, so the learner's logprobs are the sampler's.</summary>
    public bool RoutingReplay { get; init; }
    /// <summary>LoRA on the MLP too (on an MoE model: every expert, the shared experts and the
    /// dense layers' MLPs); false: attention (and unembedding) only.</summary>
    public bool TrainMlp { get; init; } = true;
    /// <summary>β of the KL penalty to the base model folded into the advantages; 0: none.</summary>
    public double KlPenalty { get; init; }

    /// <summary>Sample the next batch while the current one trains.</summary>
    public bool Async { get; init; }
    /// <summary>In async mode: how many optimizer steps behind the trained weights a batch's
    /// sampler may be.</summary>
    public int MaxStepsOffPolicy { get; init; } = 1;

    public int CheckpointEvery { get; init; } = 10;
    /// <summary>Greedy held-out accuracy before training, every N steps and at the end; 0: never.</summary>
    public int EvalEvery { get; init; } = 10;
    public int EvalCount { get; init; } = 100;
    public long Seed { get; init; }

    /// <summary>loss_fn_config as sent: <see cref="LossFnConfig"/> plus tis_cap when set.</summary>
    public IReadOnlyDictionary<string, double>? TrainingLossConfig() => TisCap is not double cap ? LossFnConfig
        : new Dictionary<string, double>(LossFnConfig ?? new Dictionary<string, double>()) { ["tis_cap"] = cap };
}

/// <summary>What an RL run ended with. Evals are null when the run did not evaluate.</summary>
public sealed record RlResult(string SamplerPath, int Steps, double FirstReward, double LastReward, RlEvalReport? InitialEval, RlEvalReport? FinalEval);
