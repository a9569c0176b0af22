using System.Text.Json;
using Whetstone.Engine.Worker;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

// A LoRA run continuing a sampler checkpoint's adapter: how a loop's candidate starts from the
// deployed version (a deployment names sampler weights, which need not have a training state).
internal sealed partial class TrainingRunService
{
    public async Task<P.TrainingRunInfo> CreateFromSamplerWeightsAsync(Caller caller, string samplerPath, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var (checkpoint, source) = await Checkpoints.ReadableAsync(context, caller, samplerPath, "checkpoint");
        if (checkpoint.Kind != CheckpointPath.SamplerWeights) throw ApiError.BadRequest("checkpoint", "is not a sampler_weights checkpoint");
        if (source.FullFineTuning) throw ApiError.BadRequest("checkpoint", "is a full fine-tuning checkpoint; a LoRA run continues only an adapter");
        var record = new RunRecord(NewRunId(), caller.Tenant, source.BaseModel, DateTimeOffset.UtcNow)
        {
            UserMetadataJson = metadata is null ? null : JsonSerializer.Serialize(metadata),
        };
        var live = await StartAsync(record, new RunSource.PeftDirectory(checkpoint.Directory));
        live.Record = live.Record with { LoraConfigJson = JsonSerializer.Serialize(live.Engine.LoraConfig) };
        await context.Store.InsertRunAsync(live.Record);
        return Info(live.Record, live);
    }
}
