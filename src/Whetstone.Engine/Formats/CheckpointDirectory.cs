using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Whetstone.Engine.Formats;

/// <summary>Writes a directory of files atomically with a checksum manifest, and verifies it.</summary>
public static class CheckpointDirectory
{
    public const string ManifestName = "manifest.json";

    public static void Write(string directory, Action<string> writeFiles)
    {
        var full = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            writeFiles(staging);
            var files = new JsonObject();
            foreach (var file in Directory.GetFiles(staging).Order(StringComparer.Ordinal))
                files[Path.GetFileName(file)] = Sha256(file);
            AtomicFile.WriteAllText(Path.Combine(staging, ManifestName), new JsonObject { ["sha256"] = files }.ToJsonString());
            if (Directory.Exists(full))
            {
                var old = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.old");
                Directory.Move(full, old);
                Directory.Move(staging, full);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(staging, full);
            }
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the first file whose checksum
    /// does not match (or that is missing).</summary>
    public static void Verify(string directory)
    {
        var manifestPath = Path.Combine(directory, ManifestName);
        if (!File.Exists(manifestPath)) throw new InvalidDataException($"checkpoint '{directory}' has no {ManifestName}: incomplete or not a checkpoint");
        var files = JsonNode.Parse(File.ReadAllText(manifestPath))?["sha256"] as JsonObject
            ?? throw new InvalidDataException($"checkpoint '{directory}': {ManifestName} is malformed");
        foreach (var (name, hash) in files)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path)) throw new InvalidDataException($"checkpoint '{directory}': file '{name}' is missing");
            if (Sha256(path) != hash!.GetValue<string>())
                throw new InvalidDataException($"checkpoint '{directory}': file '{name}' is corrupted (checksum mismatch)");
        }
    }

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
