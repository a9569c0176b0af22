namespace Whetstone.Protocol;

/// <summary>Tinker's sessions: one per SDK ServiceClient, the logical unit of work that the
/// training runs and sampling sessions it starts belong to. Created by the SDK on first use.</summary>
public sealed record CreateSessionRequest
{
    public IReadOnlyDictionary<string, string>? UserMetadata { get; init; }
}

public sealed record SessionCreated(string SessionId);

/// <summary>One page of the caller's session ids, newest first (Tinker's list_sessions).</summary>
public sealed record SessionList(IReadOnlyList<string> Sessions, Cursor Cursor);

/// <summary>A session with what it started (Tinker's get_session): training run ids and
/// sampling session ids, oldest first.</summary>
public sealed record SessionInfo(string SessionId, IReadOnlyList<string> TrainingRunIds, IReadOnlyList<string> SamplerIds, DateTimeOffset CreatedAt)
{
    public IReadOnlyDictionary<string, string>? UserMetadata { get; init; }
}

public static class SessionRoutes
{
    public const string Sessions = Routes.Prefix + "/sessions";                    // POST create, GET ?limit=&offset=
    public static string Session(string sessionId) => $"{Sessions}/{Uri.EscapeDataString(sessionId)}";   // GET
}
