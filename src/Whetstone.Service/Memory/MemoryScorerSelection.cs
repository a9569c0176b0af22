using System.Net;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;
using Whetstone.Service.Scheduling;

namespace Whetstone.Service.Memory;

/// <summary>memory.scorer: checks the choice a request makes (400 naming the field, value and
/// reason; nothing changes), and builds the scorer a memory's update runs with. A learned scorer
/// must be a value-head run of the caller's tenant on the memory's base model; another tenant's run
/// gets the same answer as an unknown one, so ids are not probed.</summary>
internal static class MemoryScorerSelection
{
    /// <summary>The choice to store: <paramref name="current"/> when the request names no scorer, null for the heuristic.</summary>
    public static async Task<MemoryScorerChoice?> CheckAsync(Caller caller, MemoryScorer? requested, MemoryScorerChoice? current, string baseModel,
        TrainingRunService? runs)
    {
        if (requested is null) return current;
        switch (requested.Kind)
        {
            case MemoryScorer.Heuristic:
                if (requested.Run is not null) throw ApiError.BadRequest("memory.scorer.run", $"= '{requested.Run}' is only for kind '{MemoryScorer.Learned}' (kind is '{MemoryScorer.Heuristic}')");
                return null;
            case MemoryScorer.Learned:
                break;
            default:
                throw ApiError.BadRequest("memory.scorer.kind", $"= '{requested.Kind}' is not a scorer ('{MemoryScorer.Heuristic}', '{MemoryScorer.Learned}')");
        }
        if (string.IsNullOrWhiteSpace(requested.Run)) throw ApiError.BadRequest("memory.scorer.run", $"is required for kind '{MemoryScorer.Learned}': the id of a training run with a value head");
        if (runs is null) throw ApiError.BadRequest("memory.scorer.kind", $"= '{MemoryScorer.Learned}' is not available on this server (it has no training runs)");
        TrainingRunInfo info;
        try { info = await runs.InfoAsync(caller, requested.Run); }
        catch (ApiError e) when (e.Status == HttpStatusCode.NotFound)
        {
            throw ApiError.BadRequest("memory.scorer.run", $"= '{requested.Run}' is not a training run of yours");
        }
        if (!info.ValueHead)
            throw ApiError.BadRequest("memory.scorer.run", $"= '{requested.Run}' has no value head (create the run with value_head, as a reward model)");
        if (info.BaseModel != baseModel)
            throw ApiError.BadRequest("memory.scorer.run", $"= '{requested.Run}' is on base model '{info.BaseModel}', not the memory's '{baseModel}'");
        return new MemoryScorerChoice(requested.Run, caller.ApiKeyId);
    }

    /// <summary>What GET shows.</summary>
    public static MemoryScorer Shown(MemoryScorerChoice? choice) =>
        choice is null ? new MemoryScorer(MemoryScorer.Heuristic) : new MemoryScorer(MemoryScorer.Learned, choice.RunId);

    /// <summary>The learned scorer over the service's own run calls: a score call queued on the base
    /// model's worker in the run's order, as the memory's tenant (and the key that chose it).</summary>
    public static ValueHeadSpanScorer Learned(ServiceContext context, TrainingRunService runs, string tenant, MemoryScorerChoice choice) =>
        new(async (sequences, cancellationToken) =>
        {
            var caller = new Caller(tenant, choice.ApiKeyId, IsAdmin: false);
            var future = await runs.ScoreAsync(caller, choice.RunId, new ScoreRequest(sequences.Select(ModelInput.FromTokens).ToArray()));
            return (await context.Futures.ResultAsync<ScoreOutput>(future.RequestId, cancellationToken)).Values;
        });
}
