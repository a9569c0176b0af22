using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Service.Runs;

/// <summary>The base models this server serves, by name (the directory's name). Each is loaded
/// once, on first use, and shared by every run and session on it.</summary>
public sealed class BaseModelRegistry : IDisposable
{
    readonly Dictionary<string, string> _directories;
    readonly Dictionary<string, Lazy<PretrainedModel>> _models = new(StringComparer.Ordinal);
    readonly ScalarType _dtype;

    public BaseModelRegistry(IEnumerable<string> modelDirectories, ScalarType dtype)
    {
        _dtype = dtype;
        _directories = new(StringComparer.Ordinal);
        foreach (var directory in modelDirectories)
        {
            var full = Path.GetFullPath(directory);
            if (!File.Exists(Path.Combine(full, "config.json")))
                throw new ArgumentException($"--models: '{directory}' is not a Hugging Face model directory (no config.json)");
            _directories[Path.GetFileName(full.TrimEnd('/'))] = full;
        }
        foreach (var (name, directory) in _directories)
            _models[name] = new Lazy<PretrainedModel>(() => PretrainedModel.Load(directory, _dtype));
    }

    public IReadOnlyCollection<string> Names => _directories.Keys;
    public ScalarType Dtype => _dtype;

    public bool Contains(string name) => _directories.ContainsKey(name);

    public string Directory(string name) => _directories.TryGetValue(name, out var d) ? d : throw UnknownModel(name);

    public PretrainedModel Get(string name) => _models.TryGetValue(name, out var m) ? m.Value : throw UnknownModel(name);

    /// <summary>A private copy (full fine-tuning trains every weight, so it cannot share).</summary>
    public PretrainedModel LoadCopy(string name) => PretrainedModel.Load(Directory(name), _dtype);

    ApiError UnknownModel(string name) =>
        ApiError.BadRequest("base_model", $"'{name}' is not served here (served: {string.Join(", ", _directories.Keys)})");

    public void Dispose()
    {
        foreach (var m in _models.Values) if (m.IsValueCreated) m.Value.Dispose();
    }
}
