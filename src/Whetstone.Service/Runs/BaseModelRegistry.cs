using static TorchSharp.torch;

namespace Whetstone.Service.Runs;

/// <summary>The base models this server serves, by name (the directory's name), and the dtype
/// they compute in. Each is loaded by its engine worker on first use and shared by every run and
/// session on it.</summary>
public sealed class BaseModelRegistry
{
    readonly Dictionary<string, string> _directories;

    public BaseModelRegistry(IEnumerable<string> modelDirectories, ScalarType dtype, Device? device = null)
    {
        Dtype = dtype;
        Device = device ?? CPU;
        _directories = new(StringComparer.Ordinal);
        foreach (var directory in modelDirectories)
        {
            var full = Path.GetFullPath(directory);
            if (!File.Exists(Path.Combine(full, "config.json")))
                throw new ArgumentException($"--models: '{directory}' is not a Hugging Face model directory (no config.json)");
            _directories[Path.GetFileName(full.TrimEnd('/'))] = full;
        }
    }

    public IReadOnlyCollection<string> Names => _directories.Keys;
    public ScalarType Dtype { get; }
    public Device Device { get; }

    public bool Contains(string name) => _directories.ContainsKey(name);

    public string Directory(string name) => _directories.TryGetValue(name, out var d) ? d : throw UnknownModel(name);

    ApiError UnknownModel(string name) =>
        ApiError.BadRequest("base_model", $"'{name}' is not served here (served: {string.Join(", ", _directories.Keys)})");
}
