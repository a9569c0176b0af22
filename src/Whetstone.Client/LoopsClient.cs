using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// Experiential loops on the caller's deployments: served answers and their feedback train a
/// candidate by RL inside the server, which is gated, canaried on live traffic and promoted or
/// rolled back on its own. Create one per deployment, read its state, change its settings, pause
/// (the deployment keeps its last promoted version) and resume, and read its lineage.
/// </summary>
public sealed class LoopsClient
{
    readonly ITransport _transport;

    internal LoopsClient(ITransport transport) => _transport = transport;

    public Task<LoopInfo> CreateAsync(CreateLoopRequest request, CancellationToken cancellationToken = default) =>
        _transport.PostAsync<CreateLoopRequest, LoopInfo>(Routes.Loops, request, cancellationToken);

    public Task<LoopInfo> GetAsync(string id, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<LoopInfo>(Routes.Loop(Uri.EscapeDataString(id)), cancellationToken);

    public async Task<IReadOnlyList<LoopInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        (await _transport.GetAsync<LoopList>(Routes.Loops, cancellationToken).ConfigureAwait(false)).Loops;

    /// <summary>Changes the status (active | paused) and any settings given.</summary>
    public Task<LoopInfo> UpdateAsync(string id, UpdateLoopRequest request, CancellationToken cancellationToken = default) =>
        _transport.SendAsync<UpdateLoopRequest, LoopInfo>(HttpMethod.Patch, Routes.Loop(Uri.EscapeDataString(id)), request, cancellationToken);

    /// <summary>Stops iterating; a canary in progress is taken off, so name@latest keeps its last promoted version.</summary>
    public Task<LoopInfo> PauseAsync(string id, CancellationToken cancellationToken = default) =>
        UpdateAsync(id, new UpdateLoopRequest { Status = "paused" }, cancellationToken);

    public Task<LoopInfo> ResumeAsync(string id, CancellationToken cancellationToken = default) =>
        UpdateAsync(id, new UpdateLoopRequest { Status = "active" }, cancellationToken);

    public Task DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        _transport.SendAsync<object>(HttpMethod.Delete, Routes.Loop(Uri.EscapeDataString(id)), null, cancellationToken);

    /// <summary>Every iteration: feedback ids → reward-model version → policy checkpoint → deployment version, outcome and why.</summary>
    public Task<LoopLineage> LineageAsync(string id, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<LoopLineage>(Routes.LoopLineage(Uri.EscapeDataString(id)), cancellationToken);
}
