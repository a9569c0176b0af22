using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;

namespace Whetstone.Service.WebConsole;

/// <summary>The web console: static ES modules embedded in this assembly (WebConsole/wwwroot),
/// served at <c>/</c> (index.html) and <c>/console/…</c> without a key — the page itself signs in
/// with the user's API key and calls the REST API as that tenant, so what it can show is what the
/// API lets that key see. <c>/console/pages.json</c> lists the page modules (pages/*.js), so a new
/// page is one new file.</summary>
internal static class ConsoleEndpoints
{
    const string ResourcePrefix = "console/", PathPrefix = "/console/";
    static readonly FileExtensionContentTypeProvider ContentTypes = new();
    static readonly Lazy<FrozenDictionary<string, byte[]>> Files = new(LoadFiles);

    /// <summary>Serves the console's files ahead of API-key authentication (they hold no data).</summary>
    public static void UseWebConsole(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        string path = http.Request.Path.Value ?? "";
        string? name = path == "/" ? "index.html" : path.StartsWith(PathPrefix, StringComparison.Ordinal) ? path[PathPrefix.Length..] : null;
        if (name is null || !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)))
        {
            await next(http);
            return;
        }
        byte[]? body = name == "pages.json" ? PageList() : Files.Value.GetValueOrDefault(name);
        if (body is null)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        http.Response.ContentType = ContentTypes.TryGetContentType(name, out var type) ? type : "application/octet-stream";
        if (name.EndsWith(".js", StringComparison.Ordinal)) http.Response.ContentType = "text/javascript; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        // Only this origin's scripts run, and nothing the API returns is ever parsed as markup.
        http.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.ContentLength = body.Length;
        if (HttpMethods.IsGet(http.Request.Method)) await http.Response.Body.WriteAsync(body, http.RequestAborted);
    });

    static byte[] PageList() => JsonSerializer.SerializeToUtf8Bytes(Files.Value.Keys
        .Where(k => k.StartsWith("pages/", StringComparison.Ordinal) && k.EndsWith(".js", StringComparison.Ordinal))
        .Select(k => k["pages/".Length..^".js".Length]).Order(StringComparer.Ordinal).ToArray());

    static FrozenDictionary<string, byte[]> LoadFiles()
    {
        var assembly = typeof(ConsoleEndpoints).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            // The logical names are console/<path under wwwroot>, with the build machine's separator.
            var name = resource.Replace('\\', '/');
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[ResourcePrefix.Length..]] = copy.ToArray();
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
