using Microsoft.AspNetCore.Http;
using Whetstone.Protocol;

namespace Whetstone.Service.Api;

/// <summary>A list's ?limit=&amp;offset=, checked here (not by model binding) so a bad value is
/// a 400 naming the field. Without a limit the page runs to the end of the list.</summary>
internal readonly record struct PageQuery(int? Limit, int Offset)
{
    public static PageQuery From(HttpRequest request) =>
        new(Parse(request, "limit", 1, ListingRoutes.MaxLimit), Parse(request, "offset", 0, int.MaxValue) ?? 0);

    static int? Parse(HttpRequest request, string field, int min, int max)
    {
        if (!request.Query.TryGetValue(field, out var values)) return null;
        var text = values.ToString();
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw ApiError.BadRequest(field, max == int.MaxValue
                ? $"= '{text}' must be a whole number of at least {min}"
                : $"= '{text}' must be a whole number from {min} to {max}");
        return value;
    }

    /// <summary>The page of <paramref name="all"/> and its cursor; an offset past the end is an empty page.</summary>
    public (IReadOnlyList<T> Items, Cursor Cursor) Apply<T>(IReadOnlyList<T> all)
    {
        int limit = Limit ?? Math.Max(0, all.Count - Offset);
        return (all.Skip(Offset).Take(limit).ToArray(), new Cursor(Offset, limit, all.Count));
    }
}
