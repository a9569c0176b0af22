using System.Security.Cryptography;
using System.Text;
using Whetstone.Service.Persistence;

namespace Whetstone.Cli.Tests;

/// <summary>`whet keys create|list|revoke` against the server's metadata database: the printed
/// secret is the one the store authenticates, list never shows it, revoke ends it.</summary>
public class KeysCommandTests
{
    // The store keeps SHA-256 of the secret in lowercase hex; computed here, not by the service's hasher.
    static async Task<ApiKeyRecord?> AuthenticateAsync(string dataDirectory, string secret)
    {
        await using var store = MetadataStoreFactory.Create(null, dataDirectory);
        await store.InitializeAsync();
        return await store.FindActiveApiKeyAsync(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))));
    }

    [Fact]
    public async Task CreatePrintsASecretTheStoreAuthenticatesListHidesItRevokeEndsIt()
    {
        using var data = new TempDirectory();
        var created = Whet.Succeed("keys", "create", "--data", data.Path, "--tenant", "alice", "--name", "ci bot").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, created.Length);
        var id = created[0].Split(' ')[0];
        Assert.Equal($"{id}  tenant alice", created[0]);
        Assert.StartsWith("secret (shown once): whet_", created[1]);
        var secret = created[1]["secret (shown once): ".Length..];

        var key = await AuthenticateAsync(data.Path, secret);
        Assert.NotNull(key);
        Assert.Equal((id, "alice", "ci bot", false), (key.Id, key.Tenant, key.Name, key.IsAdmin));
        Assert.Null(await AuthenticateAsync(data.Path, secret + "x"));

        var admin = Whet.Succeed("keys", "create", "--data", data.Path, "--tenant", "ops", "--admin").Split('\n')[1]["secret (shown once): ".Length..];
        Assert.True((await AuthenticateAsync(data.Path, admin))!.IsAdmin);

        var listed = Whet.Succeed("keys", "list", "--data", data.Path);
        Assert.Equal(2, listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains(listed.Split('\n'), l => l.StartsWith(id) && l.Contains("tenant alice") && l.Contains("active") && l.EndsWith("ci bot"));
        Assert.DoesNotContain(secret, listed);
        Assert.DoesNotContain(admin, listed);

        Assert.Equal("revoked\n", Whet.Succeed("keys", "revoke", id, "--data", data.Path));
        Assert.Null(await AuthenticateAsync(data.Path, secret));
        Assert.NotNull(await AuthenticateAsync(data.Path, admin));
        Assert.Contains(Whet.Succeed("keys", "list", "--data", data.Path).Split('\n'), l => l.StartsWith(id) && l.Contains("revoked"));

        var again = Whet.Run("keys", "revoke", id, "--data", data.Path);
        Assert.Equal(2, again.ExitCode);
        Assert.Equal($"error: no active key '{id}'", again.Stderr.TrimEnd());
    }

    [Fact]
    public void ABadDatabaseSettingExitsWith2NamingIt()
    {
        using var data = new TempDirectory();
        var outcome = Whet.Run("keys", "create", "--data", data.Path, "--tenant", "alice", "--db", "sqlite:");
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("error: Database setting 'sqlite:' needs a file path", outcome.Stderr);
        Assert.Single(outcome.Stderr.TrimEnd().Split('\n'));
    }
}
