using System.IO.Compression;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>REST over checkpoints: list, info, delete, publish, TTL, download (PEFT zip or merged
/// Hugging Face model zip), and accounting.</summary>
internal sealed class CheckpointService(ServiceContext context)
{
    public async Task<P.CheckpointList> ListAsync(Caller caller, string runId)
    {
        var run = await context.Store.GetRunAsync(runId);
        if (run is null || run.Tenant != caller.Tenant) throw ApiError.NotFound("training run", runId);
        return new P.CheckpointList((await context.Store.ListCheckpointsAsync(runId)).Where(c => !SaveNaming.IsEphemeral(c.Name)).Select(Info).ToArray());
    }

    public async Task<P.CheckpointInfo> GetAsync(Caller caller, string path) =>
        Info((await Checkpoints.ReadableAsync(context, caller, path, "path")).Checkpoint);

    public async Task DeleteAsync(Caller caller, string path)
    {
        var checkpoint = await Checkpoints.OwnedAsync(context, caller, path);
        await context.Store.DeleteCheckpointAsync(path);
        if (Directory.Exists(checkpoint.Directory)) Directory.Delete(checkpoint.Directory, recursive: true);
    }

    public async Task<P.CheckpointInfo> SetPublishedAsync(Caller caller, string path, bool published)
    {
        await Checkpoints.OwnedAsync(context, caller, path);
        await context.Store.SetCheckpointPublishedAsync(path, published);
        return Info((await context.Store.GetCheckpointAsync(path))!);
    }

    public async Task<P.CheckpointInfo> SetTtlAsync(Caller caller, string path, P.SetCheckpointTtlRequest request)
    {
        await Checkpoints.OwnedAsync(context, caller, path);
        SaveNaming.CheckTtl(request.TtlSeconds);
        await context.Store.SetCheckpointExpiryAsync(path, request.TtlSeconds is double ttl ? DateTimeOffset.UtcNow.AddSeconds(ttl) : null);
        return Info((await context.Store.GetCheckpointAsync(path))!);
    }

    /// <summary>A zip of the checkpoint: format "peft" (sampler weights as they are), "merged"
    /// (the adapter merged into a standalone Hugging Face model) or "gguf" (that model as one
    /// GGUF file for llama.cpp).</summary>
    public async Task<string> DownloadAsync(Caller caller, string path, string format)
    {
        var (checkpoint, run) = await Checkpoints.ReadableAsync(context, caller, path, "path");
        if (checkpoint.Kind != CheckpointPath.SamplerWeights) throw ApiError.BadRequest("path", "downloads are of sampler_weights checkpoints");
        var zip = Path.Combine(context.DataDirectory, "downloads", $"{Guid.NewGuid():N}.zip");
        Directory.CreateDirectory(Path.GetDirectoryName(zip)!);
        switch (format)
        {
            case "peft":
                ZipFile.CreateFromDirectory(checkpoint.Directory, zip);
                break;
            case "merged":
                var staging = Path.Combine(context.DataDirectory, "downloads", Guid.NewGuid().ToString("N"));
                try
                {
                    // A full run's checkpoint is already a whole model (in its compute dtype): shipped as bf16.
                    await context.Host(run.BaseModel).Worker.ExportMergedAsync(checkpoint.Directory, run.FullFineTuning, staging);
                    ZipFile.CreateFromDirectory(staging, zip);
                }
                catch
                {
                    if (File.Exists(zip)) File.Delete(zip);
                    throw;
                }
                finally
                {
                    if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                }
                break;
            case "gguf":
                var gguf = Path.Combine(context.DataDirectory, "downloads", $"{Guid.NewGuid():N}.gguf");
                try
                {
                    await context.Host(run.BaseModel).Worker.ExportGgufAsync(checkpoint.Directory, run.FullFineTuning, gguf);
                    using var archive = ZipFile.Open(zip, ZipArchiveMode.Create);
                    archive.CreateEntryFromFile(gguf, Path.GetFileName(path) + ".gguf", CompressionLevel.Fastest);
                }
                catch (NotSupportedException unsupported)   // a family GGUF export does not write (MoE, vision)
                {
                    if (File.Exists(zip)) File.Delete(zip);
                    throw ApiError.BadRequest("format", $"'gguf': {unsupported.Message}");
                }
                catch
                {
                    if (File.Exists(zip)) File.Delete(zip);
                    throw;
                }
                finally
                {
                    if (File.Exists(gguf)) File.Delete(gguf);
                }
                break;
            default:
                throw ApiError.BadRequest("format", $"'{format}' is not peft, merged or gguf");
        }
        return zip;
    }

    public async Task<P.UsageInfo> RunUsageAsync(Caller caller, string runId)
    {
        var run = await context.Store.GetRunAsync(runId);
        if (run is null || run.Tenant != caller.Tenant) throw ApiError.NotFound("training run", runId);
        return Usage(await context.Store.GetRunUsageAsync(runId));
    }

    public async Task<P.UsageInfo> KeyUsageAsync(Caller caller) => Usage(await context.Store.GetApiKeyUsageAsync(caller.ApiKeyId));

    /// <summary>Deletes checkpoints whose TTL has passed; returns how many.</summary>
    public async Task<int> ExpireAsync(DateTimeOffset now)
    {
        var expired = await context.Store.ListExpiredCheckpointsAsync(now);
        foreach (var checkpoint in expired)
        {
            await context.Store.DeleteCheckpointAsync(checkpoint.Path);
            if (Directory.Exists(checkpoint.Directory)) Directory.Delete(checkpoint.Directory, recursive: true);
        }
        return expired.Count;
    }

    static P.UsageInfo Usage(UsageTotals t) => new()
    {
        PrefillTokens = t.PrefillTokens, SampledTokens = t.SampledTokens, TrainedTokens = t.TrainedTokens, ComputeSeconds = t.ComputeSeconds,
    };

    internal static P.CheckpointInfo Info(CheckpointRecord c) => new(c.Path, c.RunId, c.Kind, c.Name)
    {
        CreatedAt = c.CreatedAt, Published = c.Published, ExpiresAt = c.ExpiresAt, SizeBytes = c.SizeBytes,
    };
}
