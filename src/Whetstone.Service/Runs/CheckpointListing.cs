using System.Text.Json;
using Whetstone.Engine.Lora;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>Checkpoints seen across runs: all the caller's (Tinker's list_user_checkpoints) and
/// what one path holds (Tinker's weights info by path).</summary>
internal static class CheckpointListing
{
    /// <summary>Every checkpoint of the caller's tenant, newest first (ties by path, so pages
    /// do not overlap).</summary>
    public static async Task<IReadOnlyList<P.CheckpointInfo>> ListUserAsync(ServiceContext context, Caller caller)
    {
        var all = new List<CheckpointRecord>();
        foreach (var run in await context.Store.ListRunsAsync(caller.Tenant))
            all.AddRange((await context.Store.ListCheckpointsAsync(run.Id)).Where(c => !SaveNaming.IsEphemeral(c.Name)));
        return all.OrderByDescending(c => c.CreatedAt).ThenBy(c => c.Path, StringComparer.Ordinal)
            .Select(CheckpointService.Info).ToArray();
    }

    /// <summary>The base model and adapter shape behind a checkpoint the caller may read (their
    /// own, or a published one): enough to load it elsewhere.</summary>
    public static async Task<P.WeightsInfo> WeightsInfoAsync(ServiceContext context, Caller caller, string path)
    {
        var (_, run) = await Checkpoints.ReadableAsync(context, caller, path, "path");
        var lora = run.FullFineTuning || run.LoraConfigJson is null ? null : JsonSerializer.Deserialize<LoraConfig>(run.LoraConfigJson);
        return new P.WeightsInfo(run.BaseModel, IsLora: lora is not null, LoraRank: lora?.Rank)
        {
            TrainAttn = lora?.TrainAttention ?? true, TrainMlp = lora?.TrainMlp ?? true, TrainUnembed = lora?.TrainUnembed ?? true,
        };
    }
}
