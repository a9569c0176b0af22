using System.Runtime.CompilerServices;

namespace Whetstone.Client;

/// <summary>The log's and feedback's paging: ?limit=&amp;after=id, oldest first, a short page last.</summary>
internal static class Paged
{
    public static string Path(string route, int limit, string? after)
    {
        if (limit is < 1 or > CompletionLogClient.MaxPage) throw new ArgumentOutOfRangeException(nameof(limit), limit, $"from 1 to {CompletionLogClient.MaxPage}");
        return after is null ? $"{route}?limit={limit}" : $"{route}?limit={limit}&after={Uri.EscapeDataString(after)}";
    }

    public static async IAsyncEnumerable<T> AllAsync<T>(Func<int, string?, CancellationToken, Task<IReadOnlyList<T>>> page, Func<T, string> idOf,
        int pageSize, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? after = null;
        while (true)
        {
            var rows = await page(pageSize, after, cancellationToken).ConfigureAwait(false);
            foreach (var row in rows) yield return row;
            if (rows.Count < pageSize) yield break;
            after = idOf(rows[^1]);
        }
    }
}
