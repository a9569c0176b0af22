using System.Net;
using Microsoft.AspNetCore.Http;
using Whetstone.Protocol;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Auth;

/// <summary>Every API call carries `Authorization: Bearer &lt;key&gt;`; the key's SHA-256 is
/// looked up among the active keys and the caller's tenant attached to the request (see
/// <see cref="Authenticate"/> for the in-memory server's trusted callers).</summary>
internal sealed class ApiKeyAuthentication(RequestDelegate next, IMetadataStore store)
{
    const string CallerKey = "whetstone.caller";

    public async Task InvokeAsync(HttpContext http)
    {
        // Health and metrics need no key; an in-memory request made as a tenant arrives authenticated.
        if (http.Request.Path.StartsWithSegments(Routes.Health) || http.Request.Path.StartsWithSegments(Observability.MetricsEndpoint.Path)
            || http.Items[CallerKey] is Caller) { await next(http); return; }
        string? header = http.Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.Ordinal))
            throw new ApiError(HttpStatusCode.Unauthorized, "unauthorized", "missing 'Authorization: Bearer <api key>' header");
        var key = await store.FindActiveApiKeyAsync(ApiKeyHasher.Hash(header["Bearer ".Length..].Trim()), http.RequestAborted);
        if (key is null) throw new ApiError(HttpStatusCode.Unauthorized, "unauthorized", "unknown or revoked API key");
        http.Items[CallerKey] = new Caller(key.Tenant, key.Id, key.IsAdmin);
        await next(http);
    }

    /// <summary>Makes the request <paramref name="caller"/>'s without a key: only the in-memory
    /// server does this, for the process that holds the service (no network request can).</summary>
    internal static void Authenticate(HttpContext http, Caller caller) => http.Items[CallerKey] = caller;

    public static Caller CallerOf(HttpContext http) =>
        http.Items[CallerKey] as Caller ?? throw new InvalidOperationException("request was not authenticated");
}
