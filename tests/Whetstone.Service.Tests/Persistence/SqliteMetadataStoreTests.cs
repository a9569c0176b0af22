using Microsoft.Data.Sqlite;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Tests.Persistence;

/// <summary>The contract on a SQLite file in a fresh temp directory (a directory the store must create).</summary>
public sealed class SqliteMetadataStoreTests : MetadataStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "whet-sqlite-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_directory, "nested", "whetstone.db");

    protected override Task CreateDatabaseAsync() => Task.CompletedTask;

    protected override Task DropDatabaseAsync()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    protected override IMetadataStore NewStore() => new SqliteMetadataStore($"Data Source={DatabasePath}");

    [Fact]
    public async Task DatabaseFileIsInWalMode()
    {
        await using (var store = NewStore())
            await store.InitializeAsync();
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await command.ExecuteScalarAsync());
    }
}
