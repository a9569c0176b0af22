using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Whetstone.Service.Tests.Fuzzing;

/// <summary>Everything a server has stored, as one comparable value: every row of every table of
/// its SQLite metadata store, and every file under its data directory (path, size, content hash)
/// other than the database's own files.</summary>
internal sealed record StoredState(IReadOnlyDictionary<string, string> Tables, IReadOnlyDictionary<string, string> Files)
{
    public static StoredState Read(string dataDirectory)
    {
        var tables = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var database = Path.Combine(dataDirectory, Whetstone.Service.Persistence.MetadataStoreFactory.DefaultFileName);
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        {
            connection.Open();
            var names = new List<string>();
            using (var list = connection.CreateCommand())
            {
                list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
                using var reader = list.ExecuteReader();
                while (reader.Read()) names.Add(reader.GetString(0));
            }
            foreach (var name in names)
            {
                using var select = connection.CreateCommand();
                select.CommandText = $"SELECT * FROM \"{name}\" ORDER BY rowid";
                using var reader = select.ExecuteReader();
                var rows = new StringBuilder();
                while (reader.Read())
                {
                    for (int i = 0; i < reader.FieldCount; i++) rows.Append(reader.IsDBNull(i) ? "∅" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).Append('\u001f');
                    rows.Append('\n');
                }
                tables[name] = rows.ToString();
            }
        }
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dataDirectory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(dataDirectory, file);
            if (relative.StartsWith(Whetstone.Service.Persistence.MetadataStoreFactory.DefaultFileName, StringComparison.Ordinal)) continue;
            try { files[relative] = $"{new FileInfo(file).Length}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)))[..16]}"; }
            catch (FileNotFoundException) { }
        }
        return new StoredState(tables, files);
    }

    /// <summary>What differs, one line per table or file; empty when nothing does.</summary>
    public IReadOnlyList<string> Differences(StoredState after)
    {
        var lines = new List<string>();
        foreach (var name in Tables.Keys.Union(after.Tables.Keys))
            if (Tables.GetValueOrDefault(name) != after.Tables.GetValueOrDefault(name)) lines.Add($"table {name} changed");
        foreach (var name in Files.Keys.Union(after.Files.Keys))
            if (Files.GetValueOrDefault(name) != after.Files.GetValueOrDefault(name)) lines.Add($"file {name}: {Files.GetValueOrDefault(name) ?? "absent"} → {after.Files.GetValueOrDefault(name) ?? "absent"}");
        return lines;
    }
}
