using System.Text.Json;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>SDK sessions (Tinker's): created by a ServiceClient on first use, named by the
/// training runs and sampling sessions it starts, listed and read by their tenant only (another
/// tenant's session is "not found", and naming it on a new run is a 400 before anything starts).</summary>
internal static class ClientSessions
{
    public const string TrainingRunKind = "training_run", SamplerKind = "sampler";

    public static async Task<P.SessionCreated> CreateAsync(ServiceContext context, Caller caller, P.CreateSessionRequest request)
    {
        var record = new ClientSessionRecord("sess_" + Guid.NewGuid().ToString("N")[..16], caller.Tenant, DateTimeOffset.UtcNow,
            request.UserMetadata is null ? null : JsonSerializer.Serialize(request.UserMetadata));
        await context.Store.InsertClientSessionAsync(record);
        return new P.SessionCreated(record.Id);
    }

    /// <summary>Refuses a session id that is not the caller's; null (no session) is fine.</summary>
    public static async Task CheckAsync(ServiceContext context, Caller caller, string? sessionId)
    {
        if (sessionId is null) return;
        if (await context.Store.GetClientSessionAsync(sessionId) is not { } session || session.Tenant != caller.Tenant)
            throw ApiError.BadRequest("session_id", $"'{sessionId}' is not one of your sessions (create one with POST {P.SessionRoutes.Sessions})");
    }

    public static Task AddAsync(ServiceContext context, string? sessionId, string kind, string memberId) =>
        sessionId is null ? Task.CompletedTask : context.Store.AddClientSessionMemberAsync(sessionId, new ClientSessionMember(kind, memberId, DateTimeOffset.UtcNow));

    public static async Task<IReadOnlyList<string>> ListAsync(ServiceContext context, Caller caller) =>
        (await context.Store.ListClientSessionsAsync(caller.Tenant)).Select(s => s.Id).ToArray();

    public static async Task<P.SessionInfo> GetAsync(ServiceContext context, Caller caller, string id)
    {
        if (await context.Store.GetClientSessionAsync(id) is not { } session || session.Tenant != caller.Tenant) throw ApiError.NotFound("session", id);
        var members = await context.Store.ListClientSessionMembersAsync(id);
        return new P.SessionInfo(id, members.Where(m => m.Kind == TrainingRunKind).Select(m => m.MemberId).ToArray(),
            members.Where(m => m.Kind == SamplerKind).Select(m => m.MemberId).ToArray(), session.CreatedAt)
        {
            UserMetadata = session.UserMetadataJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(session.UserMetadataJson),
        };
    }
}
