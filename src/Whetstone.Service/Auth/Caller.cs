namespace Whetstone.Service.Auth;

/// <summary>Who is calling: the tenant that owns what they create, and the key (for accounting).</summary>
public sealed record Caller(string Tenant, string ApiKeyId, bool IsAdmin);
