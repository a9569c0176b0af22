namespace Whetstone.Service.Persistence;

/// <summary>The service's durable metadata: API keys, runs, checkpoints, requests, accounting.
/// Checkpoint files themselves live under the data directory; only their records are here.
/// Implemented for SQLite (the default) and PostgreSQL with the same behaviour.
/// Every method is safe to call concurrently.</summary>
public interface IMetadataStore : IAsyncDisposable
{
    /// <summary>Creates the schema if missing (idempotent); migrations go here.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    Task InsertApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default);
    /// <summary>The key with this hash unless revoked.</summary>
    Task<ApiKeyRecord?> FindActiveApiKeyAsync(string keyHash, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(CancellationToken cancellationToken = default);
    /// <summary>False if no such active key.</summary>
    Task<bool> RevokeApiKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default);
    Task<bool> AnyAdminKeyAsync(CancellationToken cancellationToken = default);

    Task InsertRunAsync(RunRecord run, CancellationToken cancellationToken = default);
    Task<RunRecord?> GetRunAsync(string id, CancellationToken cancellationToken = default);
    /// <summary>A tenant's runs, newest first.</summary>
    Task<IReadOnlyList<RunRecord>> ListRunsAsync(string tenant, CancellationToken cancellationToken = default);

    // SDK sessions (SqlMetadataStore.Sessions.cs).
    Task InsertClientSessionAsync(ClientSessionRecord session, CancellationToken cancellationToken = default);
    Task<ClientSessionRecord?> GetClientSessionAsync(string id, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<ClientSessionRecord>> ListClientSessionsAsync(string tenant, CancellationToken cancellationToken = default);
    Task AddClientSessionMemberAsync(string sessionId, ClientSessionMember member, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<ClientSessionMember>> ListClientSessionMembersAsync(string sessionId, CancellationToken cancellationToken = default);
    /// <summary>Replaces the mutable fields (step, last request, last checkpoints, metadata).</summary>
    Task UpdateRunAsync(RunRecord run, CancellationToken cancellationToken = default);

    /// <summary>Inserts, or replaces the record with the same path (a checkpoint saved again under its name).</summary>
    Task UpsertCheckpointAsync(CheckpointRecord checkpoint, CancellationToken cancellationToken = default);
    Task<CheckpointRecord?> GetCheckpointAsync(string path, CancellationToken cancellationToken = default);
    /// <summary>A run's checkpoints, oldest first.</summary>
    Task<IReadOnlyList<CheckpointRecord>> ListCheckpointsAsync(string runId, CancellationToken cancellationToken = default);
    Task<bool> DeleteCheckpointAsync(string path, CancellationToken cancellationToken = default);
    Task<bool> SetCheckpointPublishedAsync(string path, bool published, CancellationToken cancellationToken = default);
    Task<bool> SetCheckpointExpiryAsync(string path, DateTimeOffset? expiresAt, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<CheckpointRecord>> ListExpiredCheckpointsAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    Task InsertRequestAsync(RequestRecord request, CancellationToken cancellationToken = default);
    Task CompleteRequestAsync(string id, string status, string? error, DateTimeOffset at, CancellationToken cancellationToken = default);
    Task<RequestRecord?> GetRequestAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Adds to the totals of the run and of the API key (both kept).</summary>
    Task AddUsageAsync(string apiKeyId, string? runId, UsageTotals delta, CancellationToken cancellationToken = default);
    Task<UsageTotals> GetRunUsageAsync(string runId, CancellationToken cancellationToken = default);
    Task<UsageTotals> GetApiKeyUsageAsync(string apiKeyId, CancellationToken cancellationToken = default);

    /// <summary>The served-completion log: every answer of the OpenAI API.</summary>
    Task InsertServedCompletionAsync(ServedCompletionRecord completion, CancellationToken cancellationToken = default);
    Task<ServedCompletionRecord?> GetServedCompletionAsync(string id, CancellationToken cancellationToken = default);
    /// <summary>A tenant's completions, oldest first, after the one with id <paramref name="afterId"/> when given.</summary>
    Task<IReadOnlyList<ServedCompletionRecord>> ListServedCompletionsAsync(string tenant, int limit, string? afterId = null, CancellationToken cancellationToken = default);

    Task InsertFeedbackAsync(FeedbackRecord feedback, CancellationToken cancellationToken = default);
    /// <summary>A tenant's feedback, oldest first, after the one with id <paramref name="afterId"/> when given.</summary>
    Task<IReadOnlyList<FeedbackRecord>> ListFeedbackAsync(string tenant, int limit, string? afterId = null, CancellationToken cancellationToken = default);

    /// <summary>False if the tenant already has a deployment of that name.</summary>
    Task<bool> InsertDeploymentAsync(DeploymentRecord deployment, CancellationToken cancellationToken = default);
    Task<DeploymentRecord?> GetDeploymentAsync(string tenant, string name, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<DeploymentRecord>> ListDeploymentsAsync(string tenant, CancellationToken cancellationToken = default);
    /// <summary>Adds the next version of the deployment and makes it current; returns its number.</summary>
    Task<int> PromoteDeploymentAsync(string tenant, string name, string checkpointPath, DateTimeOffset at, CancellationToken cancellationToken = default);
    /// <summary>Points name@latest at an existing version (roll back or forward).</summary>
    Task<bool> SetDeploymentVersionAsync(string tenant, string name, int version, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<DeploymentVersionRecord>> ListDeploymentVersionsAsync(string tenant, string name, CancellationToken cancellationToken = default);
    /// <summary>Adds the next version without making it current (a canary candidate); returns its number.</summary>
    Task<int> AddDeploymentVersionAsync(string tenant, string name, string checkpointPath, DateTimeOffset at, CancellationToken cancellationToken = default);
    /// <summary>Sets (or, with a null version, clears) the canary split of name@latest; false if no such deployment.</summary>
    Task<bool> SetDeploymentTrafficAsync(string tenant, string name, int? candidateVersion, double percent, CancellationToken cancellationToken = default);
    /// <summary>Makes the candidate of the split current and clears the split, in one statement; false if no split.</summary>
    Task<bool> PromoteDeploymentCandidateAsync(string tenant, string name, CancellationToken cancellationToken = default);

    Task InsertLoopAsync(LoopRecord loop, CancellationToken cancellationToken = default);
    Task<LoopRecord?> GetLoopAsync(string id, CancellationToken cancellationToken = default);
    /// <summary>A tenant's loops (null: every tenant's), oldest first; deleted ones left out.</summary>
    Task<IReadOnlyList<LoopRecord>> ListLoopsAsync(string? tenant, CancellationToken cancellationToken = default);
    /// <summary>Replaces the settings and status; false if no such loop.</summary>
    Task<bool> UpdateLoopSettingsAsync(string id, string specJson, string status, CancellationToken cancellationToken = default);
    /// <summary>Starts iteration <c>loop.Iteration + 1</c> with its feedback window, only if the loop is
    /// still idle at that iteration (false otherwise: another start won).</summary>
    Task<bool> StartLoopIterationAsync(LoopRecord loop, LoopIterationRecord iteration, CancellationToken cancellationToken = default);
    /// <summary>Writes the iteration's row and moves the loop to <paramref name="loopState"/>, in one transaction.</summary>
    Task UpdateLoopIterationAsync(LoopIterationRecord iteration, string loopState, CancellationToken cancellationToken = default);
    /// <summary>Writes the finished iteration and returns the loop to idle; when <paramref name="consumed"/>,
    /// also moves its feedback cursor to the window's end and counts the window — one transaction.</summary>
    Task FinishLoopIterationAsync(LoopIterationRecord iteration, bool consumed, CancellationToken cancellationToken = default);
    /// <summary>A loop's iterations, oldest first.</summary>
    Task<IReadOnlyList<LoopIterationRecord>> ListLoopIterationsAsync(string loopId, CancellationToken cancellationToken = default);
    /// <summary>Feedback on completions a deployment (any version) answered, oldest first, after
    /// <paramref name="afterId"/> and created before <paramref name="before"/>, with the arm that answered.</summary>
    Task<IReadOnlyList<DeploymentFeedback>> ListDeploymentFeedbackAsync(string tenant, string deployment, string? afterId, DateTimeOffset before, int limit,
        CancellationToken cancellationToken = default);
    /// <summary>A deployment's newest served completions (any version), newest first.</summary>
    Task<IReadOnlyList<ServedCompletionRecord>> ListDeploymentCompletionsAsync(string tenant, string deployment, int limit,
        CancellationToken cancellationToken = default);

    /// <summary>Creates a deployment's reward model with its version 0; false if it already has one.</summary>
    Task<bool> InsertRewardModelAsync(RewardModelRecord model, RewardModelVersionRecord initial, CancellationToken cancellationToken = default);
    Task<RewardModelRecord?> GetRewardModelAsync(string tenant, string deployment, CancellationToken cancellationToken = default);
    /// <summary>Every reward model of every tenant (the background updater's list).</summary>
    Task<IReadOnlyList<RewardModelRecord>> ListRewardModelsAsync(CancellationToken cancellationToken = default);
    /// <summary>Records the next version, moves the model's version, cursor and event count, and
    /// stores the predictions made before it trained, all in one transaction; false (and nothing
    /// written) if the model is no longer at <paramref name="fromVersion"/>.</summary>
    Task<bool> CommitRewardModelVersionAsync(RewardModelVersionRecord version, int fromVersion, string? cursor, long eventsSeen,
        IReadOnlyList<RewardModelPredictionRecord> predictions, CancellationToken cancellationToken = default);
    /// <summary>A reward model's versions, oldest first.</summary>
    Task<IReadOnlyList<RewardModelVersionRecord>> ListRewardModelVersionsAsync(string tenant, string deployment, CancellationToken cancellationToken = default);
    Task<FeedbackRecord?> GetFeedbackAsync(string id, CancellationToken cancellationToken = default);
    /// <summary>A reward model's prequential predictions, in the order they were made.</summary>
    Task<IReadOnlyList<RewardModelPredictionRecord>> ListRewardModelPredictionsAsync(string tenant, string deployment, CancellationToken cancellationToken = default);
    /// <summary>False if a memory with that id exists.</summary>
    Task<bool> InsertMemoryAsync(MemoryRecord memory, CancellationToken cancellationToken = default);
    /// <summary>The tenant's memory with this id; null for an unknown id or another tenant's.</summary>
    Task<MemoryRecord?> GetMemoryAsync(string tenant, string id, CancellationToken cancellationToken = default);
    /// <summary>One page of the tenant's memories, newest first, and how many it has in all.</summary>
    Task<(IReadOnlyList<MemoryRecord> Memories, int Total)> ListMemoriesAsync(string tenant, int limit, int offset, CancellationToken cancellationToken = default);
    /// <summary>Replaces the memory's state and appends its turn's operations, in one transaction;
    /// false (nothing written) if the memory was deleted meanwhile.</summary>
    Task<bool> SaveMemoryTurnAsync(MemoryRecord memory, IReadOnlyList<MemoryOperationRecord> operations, CancellationToken cancellationToken = default);
    /// <summary>The last <paramref name="limit"/> operations of a memory, oldest first.</summary>
    Task<IReadOnlyList<MemoryOperationRecord>> ListMemoryOperationsAsync(string memoryId, int limit, CancellationToken cancellationToken = default);
    /// <summary>Deletes the tenant's memory and its log; false if it had none with that id.</summary>
    Task<bool> DeleteMemoryAsync(string tenant, string id, CancellationToken cancellationToken = default);
}
