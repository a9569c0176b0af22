using System.Text.Json;

namespace Whetstone.Service.Cluster;

/// <summary>What a cluster's sampling session was made from: its tenant, base model and sampler
/// checkpoint (null: the bare base model).</summary>
internal sealed record SamplerRecord(string Tenant, string BaseModel, string? ModelPath);

/// <summary>Sampling-session records, one small JSON file each on the shared data directory that
/// every silo mounts (as checkpoints are): any gateway finds a session's base model from its id,
/// and a replacement worker opens the session again from it. Not grain storage: with
/// <c>--cluster localhost</c> that is in the memory of some silo, and a session whose record was
/// on a dead silo would be lost with it.</summary>
internal static class SamplerRecords
{
    const string Folder = "sampling-sessions";

    public static async Task WriteAsync(string dataDirectory, string sessionId, SamplerRecord record)
    {
        string path = PathOf(dataDirectory, sessionId) ?? throw new ArgumentException($"'{sessionId}' is not a session id", nameof(sessionId));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string staged = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllTextAsync(staged, JsonSerializer.Serialize(record));
        File.Move(staged, path, overwrite: true);   // whole or absent, never half written
    }

    /// <summary>The record, or null for an id that names no session (or is no session id at all).</summary>
    public static async Task<SamplerRecord?> ReadAsync(string dataDirectory, string sessionId)
    {
        string? path = PathOf(dataDirectory, sessionId);
        if (path is null || !File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<SamplerRecord>(await File.ReadAllTextAsync(path)); }
        catch (FileNotFoundException) { return null; }   // closed meanwhile
    }

    public static void Delete(string dataDirectory, string sessionId)
    {
        if (PathOf(dataDirectory, sessionId) is { } path) File.Delete(path);
    }

    // Session ids are "samp_" and hex digits; anything else (a path, dots) names no file.
    static string? PathOf(string dataDirectory, string sessionId) =>
        sessionId.Length is > 0 and <= 64 && sessionId.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            ? Path.Combine(dataDirectory, Folder, sessionId + ".json") : null;
}
