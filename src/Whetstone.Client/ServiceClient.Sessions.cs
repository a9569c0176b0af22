using Whetstone.Protocol;

namespace Whetstone.Client;

public sealed partial class ServiceClient
{
    readonly SemaphoreSlim _sessionGate = new(1, 1);
    string? _sessionId;

    /// <summary>Tinker's session metadata: stored with this client's session when it is created (set it before the first run or sampler).</summary>
    public IReadOnlyDictionary<string, string>? SessionMetadata { get; set; }

    /// <summary>This client's session (Tinker: one per ServiceClient), created on the server by the
    /// first call; every training run and sampling client this client starts after it belongs to
    /// it. A client that never asks for its session starts runs outside any session (and sends
    /// exactly the requests it did before sessions existed).</summary>
    public async Task<string> GetSessionIdAsync(CancellationToken cancellationToken = default)
    {
        if (_sessionId is { } id) return id;
        await _sessionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _sessionId ??= (await _transport.PostAsync<CreateSessionRequest, SessionCreated>(
                SessionRoutes.Sessions, new CreateSessionRequest { UserMetadata = SessionMetadata }, cancellationToken).ConfigureAwait(false)).SessionId;
        }
        finally { _sessionGate.Release(); }
    }

    /// <summary>Tinker's list_sessions: one page of the caller's session ids, newest first.</summary>
    public Task<SessionList> ListSessionsAsync(int limit = 20, int offset = 0, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<SessionList>(PagePath(SessionRoutes.Sessions, limit, offset), cancellationToken);

    /// <summary>Tinker's get_session: the training runs and samplers a session started.</summary>
    public Task<SessionInfo> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<SessionInfo>(SessionRoutes.Session(sessionId), cancellationToken);
}
