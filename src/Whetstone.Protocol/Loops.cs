namespace Whetstone.Protocol;

/// <summary>An experiential loop on one of the caller's deployments: when its trigger fires, an
/// iteration trains a candidate from the deployed adapter by RL on prompts from the deployment's
/// own served log, gates it against the deployed version, canaries it on live traffic and promotes
/// or rolls it back. Settings left out take the defaults below.</summary>
public sealed record CreateLoopRequest(string Deployment)
{
    public LoopTrigger? Trigger { get; init; }
    public LoopRlSettings? Rl { get; init; }
    public LoopGateSettings? Gate { get; init; }
    public LoopCanarySettings? Canary { get; init; }
}

/// <summary>PATCH: status "active" or "paused", and any settings to replace.</summary>
public sealed record UpdateLoopRequest
{
    public string? Status { get; init; }
    public LoopTrigger? Trigger { get; init; }
    public LoopRlSettings? Rl { get; init; }
    public LoopGateSettings? Gate { get; init; }
    public LoopCanarySettings? Canary { get; init; }
}

/// <summary>An iteration starts when EveryFeedback new feedback events on the deployment have
/// arrived since the last one, or EveryMinutes have passed since it (with at least one new event);
/// either may be null (not both).</summary>
public sealed record LoopTrigger
{
    public int? EveryFeedback { get; init; } = 20;
    public double? EveryMinutes { get; init; }
}

/// <summary>The RL of one iteration: Steps policy-gradient steps (importance_sampling loss), each
/// on PromptsPerStep prompts from the deployment's served log with GroupSize samples each and
/// group-centred advantages; reward = RmWeight · reward-model score + the verifiable reward; a KL
/// penalty KlCoef to the deployed policy; the LoRA adapter continues from the deployed one.</summary>
public sealed record LoopRlSettings
{
    public int Steps { get; init; } = 2;
    public int PromptsPerStep { get; init; } = 4;
    public int GroupSize { get; init; } = 4;
    public double LearningRate { get; init; } = 1e-4;
    public double KlCoef { get; init; } = 0.05;
    public int MaxTokens { get; init; } = 32;
    public double Temperature { get; init; } = 1.0;
    public double RmWeight { get; init; } = 1.0;
    public VerifiableReward? Verifiable { get; init; }
    /// <summary>How many of the newest served prompts the iteration draws from.</summary>
    public int PromptWindow { get; init; } = 200;
    public int Seed { get; init; }
    /// <summary>Before training, bring the deployment's reward model up to date on the feedback
    /// waiting for it (false: score with it as it is, e.g. a reward model frozen after a first window).</summary>
    public bool UpdateRewardModel { get; init; } = true;
    /// <summary>Loss weight per token of the users' corrections as SFT examples, trained with every
    /// step (0: off). The corrections are those among the feedback the reward model has trained on
    /// (so a frozen reward model freezes them too), the newest CorrectionWindow of them.</summary>
    public double CorrectionSftWeight { get; init; } = 1.0;
    public int CorrectionWindow { get; init; } = 32;
    /// <summary>Which corrections the window holds: "newest" (default: the newest CorrectionWindow,
    /// however old) or "adaptive": only those given after the newest change in the users' feedback
    /// that a drift detector (ADWIN, on each deployed version's own stream of feedback scores, so a
    /// promotion is not a change) finds, the newest CorrectionWindow of them. After a drift of the
    /// users' taste the corrections from before it ask for what they no longer want.</summary>
    public string CorrectionWindowPolicy { get; init; } = CorrectionWindowNewest;
    public const string CorrectionWindowNewest = "newest", CorrectionWindowAdaptive = "adaptive";
    /// <summary>The corrections are trained on only once at least this many are available: a few
    /// corrections trained step after step are memorized at their first tokens.</summary>
    public int MinCorrections { get; init; }
    /// <summary>Loss weight per token of the anchor: the deployed version's own greedy answers to up
    /// to AnchorPrompts served prompts that no correction was given on, trained as SFT with every step
    /// alongside the corrections (0: off) — it keeps the deployed behaviour where users asked for no change.</summary>
    public double AnchorWeight { get; init; }
    public int AnchorPrompts { get; init; } = 16;
    /// <summary>Which tokens of each anchored answer carry AnchorWeight: "answer" (all of them, the
    /// end of turn included) or "steps" (up to and including the first "Answer: N", weight 0 after
    /// it; an answer without one anchors nothing). The whole answer's end token right after
    /// "Answer: N" pulled against corrections that add a closing line after it; the steps keep the
    /// digits without that pull (eighth session).</summary>
    public string AnchorScope { get; init; } = AnchorScopeAnswer;
    public const string AnchorScopeAnswer = "answer", AnchorScopeSteps = "steps";
    /// <summary>The anchor's prompts are the served questions alone — the last user message,
    /// re-rendered without the system message (ChatML prompts; others are kept as served). Users who
    /// state their taste in a system message correct the answers to those prompts, while the anchor on
    /// the same prompts pulled back to the deployed answers; the bare question is where the deployed
    /// behaviour is to be kept (it is what the owner's regression suite asks).</summary>
    public bool AnchorBareQuestion { get; init; }
    /// <summary>Train only the corrections whose "Answer: N" is the served answer's own: the user
    /// edited the words or layout of a right answer. A correction that redoes a wrong sum shows its
    /// carries and borrows, and SFT on those made the model write carries where there are none.</summary>
    public bool CorrectionsKeepingAnswer { get; init; }
    /// <summary>The reward model's score counts (here and in the gate) only while its prequential
    /// accuracy over its newest RmTrustWindow predictions is at least MinRmAccuracy, over at least
    /// MinRmPredictions of them; otherwise the iteration rewards with the verifiable reward alone.</summary>
    public double MinRmAccuracy { get; init; } = 0.6;
    public int MinRmPredictions { get; init; } = 10;
    public int RmTrustWindow { get; init; } = 50;
}

/// <summary>An owner-supplied reward computed on the answer's text: +Weight when every given
/// condition holds, 0 otherwise.</summary>
public sealed record VerifiableReward
{
    public string? MustContain { get; init; }
    public string? MustNotContain { get; init; }
    public int? MaxWords { get; init; }
    /// <summary>The answer's last "Answer: N" must be the value of the prompt's last integer sum or
    /// difference ("What is 57 + 68?" → 125), recomputed from the prompt: RL on a reward model alone
    /// traded right sums for the format users liked; this reward cannot be won by a wrong sum.</summary>
    public bool Arithmetic { get; init; }
    public double Weight { get; init; } = 1.0;
}

/// <summary>The eval gate: the candidate's mean reward on up to HeldOutPrompts held-out served
/// prompts (greedy answers) must be at least the deployed version's minus Tolerance, and it may
/// fail at most MaxRegressions of the regression-suite checks the deployed version passes.</summary>
public sealed record LoopGateSettings
{
    public int HeldOutPrompts { get; init; } = 8;
    public double Tolerance { get; init; } = 0.0;
    public int MaxTokens { get; init; } = 32;
    public IReadOnlyList<RegressionCheck>? RegressionSuite { get; init; }
    public int MaxRegressions { get; init; }
    /// <summary>A candidate must also beat the deployed version's held-out reward by at least this
    /// (0: not worse by more than Tolerance is enough).</summary>
    public double MinImprovement { get; init; }
    /// <summary>Greedy answers (held-out prompts and suite) that must differ from the deployed
    /// version's: a candidate that answers everything as the deployed one does is not worth a canary.</summary>
    public int MinChangedAnswers { get; init; } = 1;
}

/// <summary>One owner check: the greedy answer to Prompt (a user message, rendered with the model's
/// chat template) must contain ExpectContains and must not contain ExpectNotContains.</summary>
public sealed record RegressionCheck(string Prompt)
{
    public string? ExpectContains { get; init; }
    public string? ExpectNotContains { get; init; }
}

/// <summary>Percent of name@latest's requests go to a gated candidate (0: promote right after the
/// gate). Once both arms have MinEvents feedback events, their satisfaction (thumbs up 1, down 0,
/// rating (r−1)/4, correction 0, preferred 1) is compared with a confidence bound of Z standard
/// errors on the difference: promoted when the candidate is surely not worse than the stable arm by
/// more than Tolerance, rolled back when it surely is; undecided at MaxMinutes after the canary
/// began, rolled back. Split says what is routed (each request, or each user as a whole), Compare
/// what is compared (each user's candidate mean against that same user's stable mean, or all events
/// as independent).</summary>
public sealed record LoopCanarySettings
{
    public const string SplitByRequest = "request", SplitByUser = "user", CompareWithinUser = "within_user", CompareEvents = "events";
    public const string DesignSequential = "sequential", DesignFixed = "fixed";

    public double Percent { get; init; } = 20;
    public int MinEvents { get; init; } = 10;
    /// <summary>"request" (default): each request is routed on its own (a hash of its user, seed and
    /// prompt), so a user's requests reach both arms. "user": all of a user's requests go to one arm.</summary>
    public string Split { get; init; } = SplitByRequest;
    /// <summary>"within_user" (default; needs Split "request" and the requests' `user`): per user with
    /// feedback on both arms, candidate mean − stable mean; the difference is their mean and its
    /// standard error counts users, not events. "events": every event independent (a per-user split
    /// compares different people, whose satisfaction differs more than the candidates do).</summary>
    public string Compare { get; init; } = CompareWithinUser;
    /// <summary>Within-user only: how many users need feedback on both arms before it decides.</summary>
    public int MinUsers { get; init; } = 5;
    public double Tolerance { get; init; } = 0.05;
    /// <summary>Width of the confidence bound on the arms' difference, in standard errors. 2 (about
    /// one chance in forty of a false "not worse" per decision): at 1 a main job promoted a candidate
    /// whose hidden satisfaction was lower (0.592 → 0.548, bound [−0.072, 0.045] against −0.1).
    /// Within users the bound is Student's t at the same tail on (users − 1) degrees of freedom.</summary>
    public double Z { get; init; } = 2.0;
    /// <summary>The canary decides by then: undecided (an arm short of MinEvents, or the bound
    /// straddling −Tolerance) means rolled back.</summary>
    public double MaxMinutes { get; init; } = 10;
    /// <summary>"sequential" (default): an anytime-valid bound on paired differences, whose error
    /// (one side at the normal tail beyond Z) holds although the canary looks after every event.
    /// "fixed": the earlier bound for one planned look (t or z standard errors), kept to compare
    /// with; looked at after every event it promoted 17% of candidates at the margin at z 2.</summary>
    public string Design { get; init; } = DesignSequential;
}

/// <summary>A loop: Status active | paused; State idle | training | gating | canary (what the
/// current iteration does); FeedbackConsumed counts the events whose iterations have finished.</summary>
public sealed record LoopInfo(string Id, string Deployment, string Status, string State, int Iteration)
{
    public DateTimeOffset CreatedAt { get; init; }
    public long FeedbackConsumed { get; init; }
    public string? FeedbackCursor { get; init; }
    public DateTimeOffset? LastIterationAt { get; init; }
    public required LoopTrigger Trigger { get; init; }
    public required LoopRlSettings Rl { get; init; }
    public required LoopGateSettings Gate { get; init; }
    public required LoopCanarySettings Canary { get; init; }
    public LoopIterationInfo? Current { get; init; }
}

public sealed record LoopList(IReadOnlyList<LoopInfo> Loops);

/// <summary>One iteration's lineage: the feedback ids of its window → the reward-model version
/// that scored its rollouts → the policy checkpoint it trained → the deployment version that
/// served it (if it got one). Outcome: promoted | rolled_back | rejected | failed | aborted; Reason says why.</summary>
public sealed record LoopIterationInfo(int Iteration, string Stage, DateTimeOffset StartedAt)
{
    public IReadOnlyList<string> FeedbackIds { get; init; } = [];
    public int DeployedVersion { get; init; }
    public string? RmVersion { get; init; }
    public string? CandidateRun { get; init; }
    public string? PolicyCheckpoint { get; init; }
    public int? DeploymentVersion { get; init; }
    public string? Outcome { get; init; }
    public string? Reason { get; init; }
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
}

public sealed record LoopLineage(string LoopId, string Deployment, IReadOnlyList<LoopIterationInfo> Iterations);
