using Npgsql;

namespace Whetstone.Service.Persistence;

/// <summary>Turns the URI form (<c>postgres://user:password@host:port/database?sslmode=require</c>),
/// which hosting platforms hand out, into the keyword form Npgsql reads.</summary>
internal static class PostgresConnectionString
{
    // libpq query parameters that Npgsql spells differently; any other name is passed to Npgsql
    // as is, which rejects ones it does not know.
    private static readonly Dictionary<string, string> LibpqNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["user"] = "Username",
        ["dbname"] = "Database",
    };

    public static bool IsUri(string value) =>
        value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    public static string FromUri(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || string.IsNullOrEmpty(parsed.Host))
            throw new ArgumentException($"Not a valid PostgreSQL URI: '{Redact(uri)}'. Expected postgres://user:password@host:port/database.", nameof(uri));
        var builder = new NpgsqlConnectionStringBuilder { Host = parsed.Host };
        if (!parsed.IsDefaultPort && parsed.Port > 0) builder.Port = parsed.Port;
        if (parsed.UserInfo.Length > 0)
        {
            var parts = parsed.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        var database = Uri.UnescapeDataString(parsed.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) builder.Database = database;
        foreach (var pair in parsed.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = pair.Split('=', 2) is [var n, var v]
                ? (Uri.UnescapeDataString(n), Uri.UnescapeDataString(v))
                : (Uri.UnescapeDataString(pair), "");
            try
            {
                builder[LibpqNames.GetValueOrDefault(name, name)] = value;
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                throw new ArgumentException($"PostgreSQL URI parameter '{name}={value}' is not supported: {e.Message}", nameof(uri), e);
            }
        }
        return builder.ConnectionString;
    }

    private static string Redact(string uri) =>
        System.Text.RegularExpressions.Regex.Replace(uri, "://([^:/@]*):[^@]*@", "://$1:***@");
}
