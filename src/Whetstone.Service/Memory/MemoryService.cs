using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Memory;

/// <summary>Memories served through /v1/chat/completions: opens a tenant's memory for a turn
/// (creating it when the request names none), and after the answer folds the turn in with
/// <see cref="MemoryEngine"/> in the background — off the response path — storing the new state
/// and its operation log. <see cref="FlushAsync"/> awaits a memory's pending update (tests, and
/// shutdown).</summary>
internal sealed class MemoryService(ServiceContext context)
{
    public const int MaxOperationsShown = 500;
    /// <summary>Room the answer prompt needs beyond the memory: the template, the new message, some answer.</summary>
    public const int MinPromptRoom = 32;

    readonly ConcurrentDictionary<string, SemaphoreSlim> _turns = new();
    readonly ConcurrentDictionary<string, Task> _pending = new();

    public MemoryPolicy Policy { get; init; } = MemoryPolicy.Default;

    /// <summary>The training runs a learned scorer reads (memory.scorer kind "learned"); null: only the heuristic.</summary>
    public TrainingRunService? Runs { get; init; }

    /// <summary>Checks the memory field and takes the memory for this turn (waiting for the previous
    /// turn's update). Bad input: 400 naming the field; nothing created.</summary>
    public async Task<MemoryLease> OpenAsync(Caller caller, ChatMemoryOptions options, string baseModel, int contextLength,
        int newMessageTokens, int? requestSeed, CancellationToken cancellationToken)
    {
        if (options.BudgetTokens is <= 0) throw ApiError.BadRequest("memory.budget_tokens", $"= {options.BudgetTokens} must be positive");
        if (options.BudgetTokens is { } b && b > contextLength - MinPromptRoom)
            throw ApiError.BadRequest("memory.budget_tokens", $"= {b} leaves no room in the model's context of {contextLength} tokens (at most {contextLength - MinPromptRoom})");
        var keys = options.FactKeys ?? [];
        for (int i = 0; i < keys.Count; i++)
            if (string.IsNullOrWhiteSpace(keys[i])) throw ApiError.BadRequest($"memory.fact_keys[{i}]", "is empty");

        MemoryState state;
        if (options.Id is null)
        {
            int budget = options.BudgetTokens ?? throw ApiError.BadRequest("memory.budget_tokens", "is required to create a memory (memory.id is not set)");
            CheckTurnFits(budget, newMessageTokens);
            var scorer = await MemoryScorerSelection.CheckAsync(caller, options.Scorer, null, baseModel, Runs);
            var now = DateTimeOffset.UtcNow;
            state = new MemoryState("mem_" + Guid.NewGuid().ToString("N"), caller.Tenant, baseModel, budget, requestSeed ?? Random.Shared.Next(), now) { UpdatedAt = now, Scorer = scorer };
            // Stored only when the turn is answered (CommitTurnAsync): a refused or abandoned request leaves nothing behind.
            var gate = _turns.GetOrAdd(state.Id, _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(cancellationToken);
            return new MemoryLease(state, keys, () => gate.Release()) { IsNew = true };
        }

        var turn = _turns.GetOrAdd(options.Id, _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync(cancellationToken);
        try
        {
            var record = await context.Store.GetMemoryAsync(caller.Tenant, options.Id, cancellationToken)
                ?? throw ApiError.BadRequest("memory.id", $"'{options.Id}' is not a memory of yours (omit memory.id to create one)");
            state = MemoryStateJson.FromRecord(record);
            if (state.BaseModel != baseModel)
                throw ApiError.BadRequest("memory.id", $"'{options.Id}' belongs to base model '{state.BaseModel}', not '{baseModel}'");
            if (options.BudgetTokens is { } newBudget) state = state with { BudgetTokens = newBudget };
            CheckTurnFits(state.BudgetTokens, newMessageTokens);
            state = state with { Scorer = await MemoryScorerSelection.CheckAsync(caller, options.Scorer, state.Scorer, baseModel, Runs) };
            return new MemoryLease(state, keys, () => turn.Release());
        }
        catch
        {
            turn.Release();
            throw;
        }
    }

    static void CheckTurnFits(int budget, int newMessageTokens)
    {
        if (newMessageTokens > budget)
            throw ApiError.BadRequest("memory.budget_tokens", $"= {budget} is smaller than this turn's {newMessageTokens} tokens of new messages");
    }

    /// <summary>The text a turn adds to the memory: the new messages and the answer, one line each.</summary>
    public static string TurnText(IReadOnlyList<ChatMessage> newMessages, string answer) =>
        string.Concat(newMessages.Select(m => $"{m.Role}: {m.Content}\n")) + $"assistant: {answer}\n";

    /// <summary>After the answer: stores a new memory, then folds the turn in, in the background
    /// (the returned task); the lease is released when the update is stored.</summary>
    public async Task<Task> CommitTurnAsync(MemoryLease lease, string turnText, int answerPromptTokens)
    {
        if (lease.IsNew) await context.Store.InsertMemoryAsync(MemoryStateJson.ToRecord(lease.State));
        var release = lease.TakeRelease();
        var update = Task.Run(async () =>
        {
            try { await UpdateAsync(lease.State, lease.FactKeys, turnText, answerPromptTokens); }
            catch (Exception e)
            {
                context.Logger.LogError(e, "memory {Memory}: update after turn {Turn} failed; the memory is unchanged", lease.Id, lease.State.Turn + 1);
                throw;
            }
            finally { release(); }
        });
        _pending[lease.Id] = update;
        return update;
    }

    async Task UpdateAsync(MemoryState state, IReadOnlyList<string> factKeys, string turnText, int answerPromptTokens)
    {
        var model = new EngineMemoryModel(context.Host(state.BaseModel), state.Tenant);
        var heuristic = new MemoryEngine(model, new LossIncreaseScorer(model, Policy, PrefixKey(state)), Policy);
        var turnTokens = model.Tokenizer.Encode(turnText);
        var now = DateTimeOffset.UtcNow;
        (MemoryState, IReadOnlyList<MemoryOperation>) folded;
        if (state.Scorer is { } choice && Runs is not null)
        {
            // The value head is the whole value (its σ is already a probability); no rarity prior on top.
            var learned = new MemoryEngine(model, MemoryScorerSelection.Learned(context, Runs, state.Tenant, choice), Policy with { SalienceWeight = 0 });
            try { folded = await learned.FoldTurnAsync(state, turnTokens, factKeys, now, new MemoryTurnWork { AnswerPromptTokens = answerPromptTokens }); }
            catch (ApiError e)
            {
                // The run cannot score now (deleted, or not restorable after a restart): this turn uses the heuristic, and the log says why.
                context.Logger.LogWarning("memory {Memory}: value head {Run} unavailable ({Reason}); turn {Turn} scored with the heuristic", state.Id, choice.RunId, e.Message, state.Turn + 1);
                var (next, log) = await heuristic.FoldTurnAsync(state, turnTokens, factKeys, now, new MemoryTurnWork { AnswerPromptTokens = answerPromptTokens });
                folded = (next, [new MemoryOperation(next.Turn, "scorer", null, $"value head {choice.RunId} unavailable ({e.Message}); scored with the heuristic"), .. log]);
            }
        }
        else folded = await heuristic.FoldTurnAsync(state, turnTokens, factKeys, now, new MemoryTurnWork { AnswerPromptTokens = answerPromptTokens });
        var (nextState, operations) = folded;
        await SaveAsync(nextState, operations, now);
    }

    Task SaveAsync(MemoryState next, IReadOnlyList<MemoryOperation> log, DateTimeOffset now)
    {
        return context.Store.SaveMemoryTurnAsync(MemoryStateJson.ToRecord(next),
            log.Select(o => new MemoryOperationRecord(next.Id, 0, o.Turn, o.Operation, o.SpanId, o.Detail, now)).ToArray());
    }

    /// <summary>The engine worker keeps the KV of the memory's last full scoring pass under this key
    /// (bounded, least recently used evicted), so the next turn prefills only what changed.</summary>
    internal static string PrefixKey(MemoryState state) => $"memory/{state.Tenant}/{state.Id}";

    /// <summary>Awaits the memory's pending update, if any; rethrows its failure.</summary>
    public Task FlushAsync(string id) => _pending.TryGetValue(id, out var task) ? task : Task.CompletedTask;

    /// <summary>Awaits every pending update (shutdown), ignoring failures (already logged).</summary>
    public async Task FlushAllAsync()
    {
        foreach (var task in _pending.Values)
            try { await task; }
            catch (Exception) { }
    }

    /// <summary>The memory after every turn answered so far (waits for a pending update; a failed one left it unchanged).</summary>
    public async Task<MemoryInfo> GetAsync(Caller caller, string id)
    {
        _ = await context.Store.GetMemoryAsync(caller.Tenant, id) ?? throw ApiError.NotFound("memory", id);
        try { await FlushAsync(id); }
        catch (Exception) { }   // logged where it failed
        var record = await context.Store.GetMemoryAsync(caller.Tenant, id) ?? throw ApiError.NotFound("memory", id);
        var state = MemoryStateJson.FromRecord(record);
        var tokenizer = context.Host(state.BaseModel).Worker.Tokenizer;
        var operations = await context.Store.ListMemoryOperationsAsync(id, MaxOperationsShown);
        return new MemoryInfo(state.Id, state.BaseModel, state.BudgetTokens, state.Turn, state.TokenCount, state.CreatedAt, state.UpdatedAt,
            state.Spans.Select(s => new MemorySpanInfo(s.Id, s.OriginTurn, s.OriginTime, tokenizer.Decode(s.Tokens), s.Tokens, s.Retention,
                s.Form.ToString().ToLowerInvariant(), s.FactKeys, s.Edits)).ToArray(),
            state.LastTurnWork?.ToProtocol(),
            operations.Select(o => new MemoryOperationInfo(o.Sequence, o.Turn, o.Operation, o.SpanId, o.Detail, o.At)).ToArray())
        {
            Scorer = MemoryScorerSelection.Shown(state.Scorer),
        };
    }

    /// <summary>Deletes after any pending update of the memory, so none writes it back, and drops the
    /// KV the engine kept for its scoring passes.</summary>
    public async Task DeleteAsync(Caller caller, string id)
    {
        var turn = _turns.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync();
        try
        {
            var record = await context.Store.GetMemoryAsync(caller.Tenant, id);
            if (record is null || !await context.Store.DeleteMemoryAsync(caller.Tenant, id)) throw ApiError.NotFound("memory", id);
            _pending.TryRemove(id, out _);
            // Its scoring passes' KV goes with it, not when the LRU bound reaches it. A model not
            // started since the last restart holds none (and is not loaded just to be asked).
            var state = MemoryStateJson.FromRecord(record);
            if (context.StartedHost(state.BaseModel) is { } host) await host.Worker.DropPrefixesAsync(PrefixKey(state));
        }
        finally { turn.Release(); }
    }
}
