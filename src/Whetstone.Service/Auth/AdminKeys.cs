using Whetstone.Service.Persistence;

namespace Whetstone.Service.Auth;

/// <summary>The admin key: WHET_ADMIN_KEY when given (registered on first use), otherwise made
/// on the first start and returned once so the caller can print it.</summary>
public static class AdminKeys
{
    public const string AdminTenant = "admin";

    public static async Task<string?> EnsureAsync(IMetadataStore store, string? configuredKey)
    {
        if (configuredKey is not null)
        {
            var hash = ApiKeyHasher.Hash(configuredKey);
            if (await store.FindActiveApiKeyAsync(hash) is null)
                await store.InsertApiKeyAsync(new ApiKeyRecord(NewKeyId(), AdminTenant, "admin (WHET_ADMIN_KEY)", hash, true, DateTimeOffset.UtcNow));
            return null;
        }
        if (await store.AnyAdminKeyAsync()) return null;
        var key = ApiKeyHasher.GenerateSecret();
        await store.InsertApiKeyAsync(new ApiKeyRecord(NewKeyId(), AdminTenant, "admin", ApiKeyHasher.Hash(key), true, DateTimeOffset.UtcNow));
        return key;
    }

    /// <summary>A new key for a tenant; the secret is returned once and only its hash is stored.</summary>
    public static async Task<(ApiKeyRecord Record, string Secret)> CreateAsync(IMetadataStore store, string tenant, string name, bool isAdmin = false)
    {
        if (string.IsNullOrWhiteSpace(tenant)) throw new ArgumentException("tenant must not be empty");
        var secret = ApiKeyHasher.GenerateSecret();
        var record = new ApiKeyRecord(NewKeyId(), tenant, name, ApiKeyHasher.Hash(secret), isAdmin, DateTimeOffset.UtcNow);
        await store.InsertApiKeyAsync(record);
        return (record, secret);
    }

    static string NewKeyId() => "key_" + Guid.NewGuid().ToString("N")[..16];
}
