namespace Whetstone.Service.Runs;

/// <summary>whet://&lt;run-id&gt;/weights/&lt;name&gt; (training state) and
/// whet://&lt;run-id&gt;/sampler_weights/&lt;name&gt; (adapter only), and where each lives under
/// the data directory.</summary>
public sealed record CheckpointPath(string RunId, string Kind, string Name)
{
    public const string Weights = "weights";
    public const string SamplerWeights = "sampler_weights";
    const string Scheme = "whet://";

    public override string ToString() => $"{Scheme}{RunId}/{Kind}/{Name}";

    public string Directory(string dataDirectory) => Path.Combine(dataDirectory, "checkpoints", RunId, Kind, Name);

    public static CheckpointPath Parse(string path, string field = "path")
    {
        if (!path.StartsWith(Scheme, StringComparison.Ordinal))
            throw ApiError.BadRequest(field, $"'{path}' is not a whet:// checkpoint path");
        var parts = path[Scheme.Length..].Split('/');
        if (parts.Length != 3 || parts[1] is not (Weights or SamplerWeights))
            throw ApiError.BadRequest(field, $"'{path}' is not whet://<run-id>/weights/<name> or whet://<run-id>/sampler_weights/<name>");
        CheckName(parts[2], field);
        return new CheckpointPath(parts[0], parts[1], parts[2]);
    }

    /// <summary>Names become directory names: letters, digits, '-', '_' and '.', not starting with '.'.</summary>
    public static void CheckName(string name, string field = "name")
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128 || name[0] == '.' || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw ApiError.BadRequest(field, $"'{name}' must be 1–128 characters of letters, digits, '-', '_' or '.', not starting with '.'");
    }
}
