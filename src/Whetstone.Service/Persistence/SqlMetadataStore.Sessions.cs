using System.Data.Common;

namespace Whetstone.Service.Persistence;

/// <summary>An SDK session (Tinker's sessions): the caller's unit of work.</summary>
public sealed record ClientSessionRecord(string Id, string Tenant, DateTimeOffset CreatedAt, string? UserMetadataJson);

/// <summary>What a session started: a "training_run" or a "sampler" (sampling session), by id.</summary>
public sealed record ClientSessionMember(string Kind, string MemberId, DateTimeOffset CreatedAt);

// SDK sessions and their members.
public abstract partial class SqlMetadataStore
{
    public Task InsertClientSessionAsync(ClientSessionRecord session, CancellationToken cancellationToken = default) =>
        ExecuteAsync("INSERT INTO client_sessions (id, tenant, user_metadata_json, created_at) VALUES (@id, @tenant, @metadata, @created)",
            cancellationToken, ("@id", session.Id), ("@tenant", session.Tenant), ("@metadata", session.UserMetadataJson), ("@created", Timestamp(session.CreatedAt)));

    public Task<ClientSessionRecord?> GetClientSessionAsync(string id, CancellationToken cancellationToken = default) =>
        QuerySingleAsync("SELECT id, tenant, created_at, user_metadata_json FROM client_sessions WHERE id = @id", ReadClientSession, cancellationToken, ("@id", id));

    /// <summary>The tenant's sessions, newest first.</summary>
    public Task<IReadOnlyList<ClientSessionRecord>> ListClientSessionsAsync(string tenant, CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT id, tenant, created_at, user_metadata_json FROM client_sessions WHERE tenant = @tenant ORDER BY created_at DESC, id DESC",
            ReadClientSession, cancellationToken, ("@tenant", tenant));

    public Task AddClientSessionMemberAsync(string sessionId, ClientSessionMember member, CancellationToken cancellationToken = default) =>
        ExecuteAsync("INSERT INTO client_session_members (session_id, kind, member_id, created_at) VALUES (@session, @kind, @member, @created)",
            cancellationToken, ("@session", sessionId), ("@kind", member.Kind), ("@member", member.MemberId), ("@created", Timestamp(member.CreatedAt)));

    /// <summary>A session's members, oldest first.</summary>
    public Task<IReadOnlyList<ClientSessionMember>> ListClientSessionMembersAsync(string sessionId, CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT kind, member_id, created_at FROM client_session_members WHERE session_id = @session ORDER BY created_at, member_id",
            reader => new ClientSessionMember(reader.GetString(0), reader.GetString(1), ReadTimestamp(reader, 2)), cancellationToken, ("@session", sessionId));

    private ClientSessionRecord ReadClientSession(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), ReadTimestamp(reader, 2), ReadNullableString(reader, 3));
}
