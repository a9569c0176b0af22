namespace Whetstone.Service.Persistence;

/// <summary>Chooses the metadata store from the server's <c>--db</c> setting.</summary>
public static class MetadataStoreFactory
{
    public const string DefaultFileName = "whetstone.db";

    /// <summary>
    /// <list type="bullet">
    /// <item><c>null</c>, empty or <c>sqlite</c>: SQLite file <c>whetstone.db</c> in <paramref name="dataDirectory"/>;</item>
    /// <item><c>sqlite:PATH</c>, or a path ending in <c>.db</c>: that SQLite file;</item>
    /// <item><c>postgres://…</c>, <c>postgresql://…</c>, or an Npgsql connection string containing <c>Host=</c>: PostgreSQL.</item>
    /// </list>
    /// The store is not yet initialized: call <see cref="IMetadataStore.InitializeAsync"/>.
    /// </summary>
    public static IMetadataStore Create(string? db, string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        var value = db?.Trim();
        if (string.IsNullOrEmpty(value) || value.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
            return new SqliteMetadataStore(Path.Combine(dataDirectory, DefaultFileName));
        if (PostgresConnectionString.IsUri(value))
            return new PostgresMetadataStore(PostgresConnectionString.FromUri(value));
        if (value.Contains("Host=", StringComparison.OrdinalIgnoreCase))
            return new PostgresMetadataStore(value);
        if (value.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = value["sqlite:".Length..];
            if (path.Length == 0)
                throw new ArgumentException("Database setting 'sqlite:' needs a file path after the colon, e.g. sqlite:/data/whetstone.db.", nameof(db));
            return new SqliteMetadataStore(path);
        }
        if (value.EndsWith(".db", StringComparison.OrdinalIgnoreCase))
            return new SqliteMetadataStore(value);
        // The setting may be a mistyped connection string: never echo a password into logs.
        var shown = value.Contains("password", StringComparison.OrdinalIgnoreCase) || value.Contains('@') ? "(hidden: it may hold a password)" : $"'{value}'";
        throw new ArgumentException(
            $"Unrecognised database setting {shown}. Use 'sqlite' (default: {DefaultFileName} in the data directory), " +
            "'sqlite:PATH', a path ending in .db, a postgres:// or postgresql:// URI, or an Npgsql connection string with Host=.",
            nameof(db));
    }
}
