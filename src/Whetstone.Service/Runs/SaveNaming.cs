namespace Whetstone.Service.Runs;

/// <summary>What a save is called and how long it lives: a caller's name with an optional TTL,
/// or, for an ephemeral sampler save (Tinker's save_weights_and_get_sampling_client without a
/// name), a server-picked name under a reserved prefix, kept out of lists and expiring.</summary>
internal static class SaveNaming
{
    public const string EphemeralPrefix = "ephemeral-";
    public static readonly TimeSpan EphemeralTtl = TimeSpan.FromHours(1);
    const double MaxTtlSeconds = 100 * 365.25 * 86400;

    public static bool IsEphemeral(string name) => name.StartsWith(EphemeralPrefix, StringComparison.Ordinal);

    /// <summary>The checkpoint's name and TTL in seconds (null: kept until deleted); every
    /// refusal comes before anything is saved.</summary>
    public static (string Name, double? TtlSeconds) Resolve(Protocol.SaveStateRequest? request, string kind)
    {
        if (request is null) throw ApiError.BadRequest("name", "is missing");
        CheckTtl(request.TtlSeconds);
        if (request.Ephemeral)
        {
            if (kind != CheckpointPath.SamplerWeights) throw ApiError.BadRequest("ephemeral", "applies to save_weights_for_sampler only");
            if (!string.IsNullOrEmpty(request.Name)) throw ApiError.BadRequest("name", $"'{request.Name}' must be absent: the server names an ephemeral save");
            return (EphemeralPrefix + Guid.NewGuid().ToString("N")[..16], request.TtlSeconds ?? EphemeralTtl.TotalSeconds);
        }
        CheckpointPath.CheckName(request.Name ?? "");
        if (IsEphemeral(request.Name!)) throw ApiError.BadRequest("name", $"'{request.Name}' starts with '{EphemeralPrefix}', which is kept for ephemeral saves");
        return (request.Name!, request.TtlSeconds);
    }

    public static void CheckTtl(double? ttlSeconds)
    {
        if (ttlSeconds is double s && !(s > 0 && s <= MaxTtlSeconds))
            throw ApiError.BadRequest("ttl_seconds", $"= {s} must be positive and at most a century (or null for no expiry)");
    }
}
