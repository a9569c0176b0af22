using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats;

/// <summary>The tensors of a Hugging Face checkpoint directory, whether stored as one
/// model.safetensors or as shards listed in model.safetensors.index.json.</summary>
public sealed class CheckpointTensors : IDisposable
{
    readonly List<SafetensorsFile> _files = [];
    readonly Dictionary<string, SafetensorsFile> _byName = new(StringComparer.Ordinal);
    readonly HashSet<string> _consumed = new(StringComparer.Ordinal);

    public string Directory { get; }
    public IEnumerable<string> Names => _byName.Keys;

    public CheckpointTensors(string directory)
    {
        Directory = directory;
        var single = Path.Combine(directory, "model.safetensors");
        var index = Path.Combine(directory, "model.safetensors.index.json");
        try
        {
            if (File.Exists(single)) Add(new SafetensorsFile(single));
            else if (File.Exists(index)) OpenShards(index);
            else throw PickleCheckpointRefusal.For(directory) ?? (Exception)new FileNotFoundException($"'{directory}' has neither model.safetensors nor model.safetensors.index.json");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    void OpenShards(string indexPath)
    {
        var weightMap = JsonNode.Parse(File.ReadAllText(indexPath))?["weight_map"] as JsonObject
            ?? throw new InvalidDataException($"{indexPath}: no 'weight_map' object");
        var shards = new Dictionary<string, SafetensorsFile>();
        foreach (var (tensorName, fileNode) in weightMap)
        {
            var file = fileNode?.GetValue<string>() ?? throw new InvalidDataException($"{indexPath}: weight_map['{tensorName}'] is not a file name");
            if (!shards.TryGetValue(file, out var shard))
            {
                var shardPath = Path.Combine(Directory, file);
                if (!File.Exists(shardPath)) throw new FileNotFoundException($"{indexPath}: shard '{file}' (holding '{tensorName}') is missing", shardPath);
                shard = shards[file] = new SafetensorsFile(shardPath);
                _files.Add(shard);
            }
            if (!shard.Contains(tensorName))
                throw new InvalidDataException($"{indexPath}: '{tensorName}' is mapped to '{file}', which does not contain it");
            _byName[tensorName] = shard;
        }
    }

    void Add(SafetensorsFile file)
    {
        _files.Add(file);
        foreach (var name in file.TensorNames) _byName[name] = file;
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The stored shape and dtype, read from the header without touching the data.</summary>
    public long[] Shape(string name) => FileHolding(name).Shape(name);

    public ScalarType StoredDtype(string name) => FileHolding(name).Dtype(name);

    SafetensorsFile FileHolding(string name) => _byName.TryGetValue(name, out var file) ? file
        : throw new KeyNotFoundException($"checkpoint '{Directory}' has no tensor '{name}'");

    /// <summary>Reads a tensor, checks its shape and converts it to <paramref name="dtype"/>.</summary>
    public Tensor Read(string name, long[] expectedShape, ScalarType dtype)
    {
        if (!_byName.TryGetValue(name, out var file))
            throw new InvalidDataException($"checkpoint '{Directory}' is missing tensor '{name}' (expected shape [{string.Join(", ", expectedShape)}])");
        var shape = file.Shape(name);
        if (!shape.SequenceEqual(expectedShape))
            throw new InvalidDataException($"checkpoint '{Directory}': tensor '{name}' has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", expectedShape)}]");
        _consumed.Add(name);
        if (file.IsFloat8(name)) return ReadFloat8(name, dtype);
        var stored = file.Read(name);
        if (stored.dtype == dtype) return stored;
        var converted = stored.to(dtype);
        stored.Dispose();
        return converted;
    }

    // Block-scaled fp8 (DeepSeek-V3 / Kimi K2 releases): dequantized with its "<name>_scale_inv"
    // at the block size config.json's quantization_config names (128 when it names none).
    Tensor ReadFloat8(string name, ScalarType dtype)
    {
        string scaleName = name + "_scale_inv";
        if (!_byName.TryGetValue(scaleName, out var scaleFile))
            throw new InvalidDataException($"checkpoint '{Directory}': fp8 tensor '{name}' has no '{scaleName}'");
        _consumed.Add(scaleName);
        using var bits = _byName[name].Read(name);
        using var scales = scaleFile.Read(scaleName);
        var weight = Fp8BlockDequantizer.Dequantize(bits, scales, Fp8BlockSize());   // fp32
        if (dtype == ScalarType.Float32) return weight;
        var converted = weight.to(dtype);
        weight.Dispose();
        return converted;
    }

    int Fp8BlockSize()
    {
        var config = Path.Combine(Directory, "config.json");
        if (!File.Exists(config)) return Fp8BlockDequantizer.DefaultBlockSize;
        var sizes = JsonNode.Parse(File.ReadAllText(config))?["quantization_config"]?["weight_block_size"] as JsonArray;
        if (sizes is null) return Fp8BlockDequantizer.DefaultBlockSize;
        int rows = sizes[0]!.GetValue<int>(), columns = sizes[1]!.GetValue<int>();
        if (rows != columns) throw new InvalidDataException($"config.json quantization_config.weight_block_size = [{rows}, {columns}] is not square (only square blocks are supported)");
        return rows;
    }

    /// <summary>Names present in the files that no module asked for (e.g. a rotary inv_freq
    /// buffer some exporters save); reported so a half-matched checkpoint is not silently accepted.</summary>
    public IEnumerable<string> Unconsumed => _byName.Keys.Where(n => !_consumed.Contains(n));

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
