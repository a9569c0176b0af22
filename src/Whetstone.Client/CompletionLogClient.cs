using System.Runtime.CompilerServices;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;

namespace Whetstone.Client;

/// <summary>
/// The served-completion log of the caller's tenant: every answer of the OpenAI-compatible API
/// with its prompt and answer tokens, logprobs and sampling settings, oldest first. Read a page
/// (<see cref="ListAsync"/>), every entry with filters (<see cref="ListAllAsync"/>), or the JSON
/// Lines export as the server streams it (<see cref="ExportAsync"/>).
/// </summary>
public sealed class CompletionLogClient
{
    /// <summary>The largest page the server gives.</summary>
    public const int MaxPage = 1000;

    readonly ITransport _transport;

    internal CompletionLogClient(ITransport transport) => _transport = transport;

    /// <summary>Up to <paramref name="limit"/> entries after the entry <paramref name="after"/> (exclusive), oldest first.</summary>
    public async Task<IReadOnlyList<ServedCompletion>> ListAsync(int limit = 100, string? after = null, CancellationToken cancellationToken = default) =>
        (await _transport.GetAsync<OpenAiList<ServedCompletion>>(Paged.Path(Routes.CompletionLog, limit, after), cancellationToken).ConfigureAwait(false)).Data;

    /// <summary>Every entry, page by page, keeping those that match: <paramref name="deployment"/>
    /// ("name" matches every version, "name@vN" one), <paramref name="user"/> (the request's
    /// user field) and <paramref name="since"/> (created at or after). The server pages by
    /// position only, so the filters are applied here.</summary>
    public async IAsyncEnumerable<ServedCompletion> ListAllAsync(string? deployment = null, string? user = null, DateTimeOffset? since = null,
        int pageSize = 200, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in Paged.AllAsync((limit, after, ct) => ListAsync(limit, after, ct), e => e.Id, pageSize, cancellationToken).ConfigureAwait(false))
            if (Matches(entry, deployment, user, since)) yield return entry;
    }

    /// <summary>The JSON Lines export (one <see cref="ServedCompletion"/> per line); dispose the stream.</summary>
    public Task<Stream> ExportAsync(CancellationToken cancellationToken = default) =>
        _transport.DownloadAsync(Routes.CompletionLogExport, cancellationToken);

    static bool Matches(ServedCompletion e, string? deployment, string? user, DateTimeOffset? since) =>
        (deployment is null || e.Deployment == deployment || (!deployment.Contains('@') && e.Deployment?.StartsWith(deployment + "@", StringComparison.Ordinal) == true))
        && (user is null || e.User == user)
        && (since is null || e.CreatedAt >= since);
}
