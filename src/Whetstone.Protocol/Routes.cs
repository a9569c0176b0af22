namespace Whetstone.Protocol;

/// <summary>Every path of the training API, in one place for the server and the SDK.</summary>
public static class Routes
{
    public const string Health = "/healthz";
    public const string Prefix = "/api/v1";

    public const string TrainingRuns = Prefix + "/training_runs";                         // POST create, GET list
    public const string TrainingRunsFromState = Prefix + "/training_runs/from_state";     // POST
    public const string TrainingRunsImportPeft = Prefix + "/training_runs/import_peft";   // POST
    public static string TrainingRun(string runId) => $"{TrainingRuns}/{runId}";           // GET info
    public static string Forward(string runId) => $"{TrainingRun(runId)}/forward";
    public static string ForwardBackward(string runId) => $"{TrainingRun(runId)}/forward_backward";
    public static string OptimStep(string runId) => $"{TrainingRun(runId)}/optim_step";
    public static string Score(string runId) => $"{TrainingRun(runId)}/score";
    public static string SaveState(string runId) => $"{TrainingRun(runId)}/save_state";
    public static string LoadState(string runId) => $"{TrainingRun(runId)}/load_state";
    public static string SaveWeightsForSampler(string runId) => $"{TrainingRun(runId)}/save_weights_for_sampler";
    public static string RunCheckpoints(string runId) => $"{TrainingRun(runId)}/checkpoints";
    public static string RunUsage(string runId) => $"{TrainingRun(runId)}/usage";
    public static string RunMetrics(string runId) => $"{TrainingRun(runId)}/metrics";   // GET ?after=, POST client metrics

    public const string SamplingSessions = Prefix + "/sampling_sessions";                 // POST create
    public static string SamplingSession(string sessionId) => $"{SamplingSessions}/{sessionId}";  // DELETE close
    public static string Sample(string sessionId) => $"{SamplingSessions}/{sessionId}/sample";
    public static string ComputeLogprobs(string sessionId) => $"{SamplingSessions}/{sessionId}/compute_logprobs";

    public static string Future(string requestId) => $"{Prefix}/futures/{requestId}";      // GET ?timeout_seconds=

    /// <summary>Checkpoints are addressed by their whet:// path, passed URL-encoded.</summary>
    public const string Checkpoints = Prefix + "/checkpoints";                             // GET ?path=, DELETE ?path=
    public const string CheckpointPublish = Checkpoints + "/publish";                      // POST ?path=
    public const string CheckpointUnpublish = Checkpoints + "/unpublish";                  // POST ?path=
    public const string CheckpointTtl = Checkpoints + "/ttl";                              // POST ?path=
    public const string CheckpointDownload = Checkpoints + "/download";                    // GET ?path=&format=peft|merged|gguf

    public const string Deployments = Prefix + "/deployments";                             // POST create, GET list
    public static string Deployment(string name) => $"{Deployments}/{name}";                // GET info with versions
    public static string DeploymentPromote(string name) => $"{Deployment(name)}/promote";   // POST
    public static string DeploymentRollback(string name) => $"{Deployment(name)}/rollback"; // POST
    public static string DeploymentTraffic(string name) => $"{Deployment(name)}/traffic";   // POST canary split

    public const string Loops = Prefix + "/loops";                                         // POST create, GET list
    public static string Loop(string id) => $"{Loops}/{id}";                               // GET, PATCH, DELETE
    public static string LoopLineage(string id) => $"{Loop(id)}/lineage";                  // GET
    /// <summary>A deployment's streaming reward model: POST create, GET status; then score, update, versions, corrections.</summary>
    public static string RewardModel(string name) => $"{Deployment(name)}/reward_model";
    public static string RewardModelScore(string name) => $"{RewardModel(name)}/score";                // POST
    public static string RewardModelUpdate(string name) => $"{RewardModel(name)}/update";              // POST
    public static string RewardModelVersions(string name) => $"{RewardModel(name)}/versions";          // GET (lineage)
    public static string RewardModelCorrections(string name) => $"{RewardModel(name)}/corrections";    // GET (SFT data)

    /// <summary>Memory Diffusion memories (created through /v1/chat/completions' memory field).</summary>
    public static string Memory(string id) => $"{Prefix}/memories/{id}";                  // GET, DELETE

    /// <summary>The OpenAI-compatible API (OpenAI's paths and shapes, errors included).</summary>
    public const string OpenAiPrefix = "/v1";
    public const string OpenAiModels = OpenAiPrefix + "/models";
    public const string OpenAiCompletions = OpenAiPrefix + "/completions";
    public const string OpenAiChatCompletions = OpenAiPrefix + "/chat/completions";
    /// <summary>The served-completion log: GET ?limit=&amp;after= (JSON list), /export (JSONL).</summary>
    public const string CompletionLog = OpenAiPrefix + "/completion_log";
    public const string CompletionLogExport = CompletionLog + "/export";
    /// <summary>POST feedback on a served completion; GET ?limit=&amp;after=; /export (JSONL).</summary>
    public const string Feedback = OpenAiPrefix + "/feedback";
    public const string FeedbackExport = Feedback + "/export";

    public const string Usage = Prefix + "/usage";                                         // GET, for the caller's key
    public const string Metrics = Prefix + "/metrics";                                     // GET: scheduler cycles per base model
}
