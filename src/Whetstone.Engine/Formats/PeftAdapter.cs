using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats;

/// <summary>A LoRA adapter as a Hugging Face PEFT directory: adapter_config.json and
/// adapter_model.safetensors with PEFT's key names, so that <c>PeftModel.from_pretrained</c>,
/// vLLM and others load what we train, and we load what they train.</summary>
public static partial class PeftAdapter
{
    public const string WeightsFileName = "adapter_model.safetensors";

    // PEFT wraps the model twice (PeftModelForCausalLM.base_model is a LoraModel whose .model is
    // the Hugging Face model), and saved keys keep both attribute names before the module path.
    const string KeyPrefix = "base_model.model.";

    // While loaded, PEFT names each factor's adapter ("lora_A.default.weight"); save_pretrained
    // drops the name, but files written by other tools keep it, so both spellings are read.
    [GeneratedRegex(@"^base_model\.model\.(?<module>.+?)\.lora_(?<factor>[AB])(?:\.(?<adapter>[^.]+))?\.weight$")]
    private static partial Regex FactorKey();

    /// <summary>Writes the adapter's factors in their own dtype (fp32 for trained adapters) with
    /// a checksum manifest, atomically; an existing directory of that name is replaced, as a
    /// re-saved checkpoint is. PEFT ignores the extra manifest.json.</summary>
    public static void Save(LoraAdapter adapter, string directory, string? baseModelNameOrPath)
    {
        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var w in adapter.Weights)
        {
            tensors.Add(new(Key(w.Target.Name, "A"), w.A.detach()));   // [r, in]
            tensors.Add(new(Key(w.Target.Name, "B"), w.B.detach()));   // [out, r]
        }
        var config = new PeftAdapterConfig
        {
            Rank = adapter.Config.Rank,
            Alpha = adapter.Config.Alpha,
            UseRsLora = adapter.Config.UseRsLora,
            TargetModules = adapter.Weights.Select(w => ShortName(w.Target.Name)).Distinct().ToArray(),
            BaseModelNameOrPath = baseModelNameOrPath,
        };
        CheckpointDirectory.Write(directory, staging =>
        {
            SafetensorsWriter.Write(Path.Combine(staging, WeightsFileName), tensors);
            AtomicFile.WriteAllText(Path.Combine(staging, PeftAdapterConfig.FileName),
                config.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        });
    }

    /// <summary>Reads a PEFT LoRA adapter (ours or Hugging Face's; fp32, fp16 or bf16 factors)
    /// onto <paramref name="network"/>'s projections. The checksums are verified first when the
    /// directory has a manifest. The returned config has the file's r and lora_alpha (and
    /// use_rslora), and the target flags of the module groups present in the file. Anything we
    /// cannot honour is an <see cref="InvalidDataException"/> naming the config field or the
    /// tensor key (with both shapes when they disagree).</summary>
    /// <param name="factorDtype">The factors' dtype; null = as for a new run (fp32, or fp64 on an
    /// fp64 network). Served adapters, never trained, take the network's compute dtype: the
    /// update casts the factors to it anyway, so the numbers are the same and no cast is left
    /// for every projection of every decode step.</param>
    public static LoraAdapter Load(string directory, CausalLanguageModel network, ScalarType? factorDtype = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"adapter directory '{directory}' does not exist");
        if (File.Exists(Path.Combine(directory, CheckpointDirectory.ManifestName))) CheckpointDirectory.Verify(directory);
        var config = ReadConfig(directory);
        var weightsPath = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException(File.Exists(Path.Combine(directory, "adapter_model.bin"))
                ? $"'{directory}' holds adapter_model.bin (a pickle), which is not read here: convert it to {WeightsFileName}"
                : $"'{directory}' has no {WeightsFileName}", weightsPath);

        using var file = new SafetensorsFile(weightsPath);
        var keys = FactorKeys(file, config, network);
        var present = network.LoraTargets().Where(t => keys.ContainsKey(t.Name)).ToList();
        var lora = new LoraConfig
        {
            Rank = config.Rank,
            Alpha = config.Alpha,
            UseRsLora = config.UseRsLora,
            TrainAttention = present.Any(t => t.Group == LoraTargetGroup.Attention),
            TrainMlp = present.Any(t => t.Group == LoraTargetGroup.Mlp),
            TrainUnembed = present.Any(t => t.Group == LoraTargetGroup.Unembed),
            TrainVisionTower = present.Any(t => t.Group == LoraTargetGroup.VisionTower),
        };
        // As for a new run: fp64 networks (gradient checks) get fp64 factors, all others fp32.
        var dtype = factorDtype ?? (network.Dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32);
        Tensor Read(string key)
        {
            var stored = file.Read(key);
            if (stored.dtype == dtype) return stored;
            using (stored) return stored.to(dtype);
        }
        return LoraAdapter.FromTensors(present, lora, target => (Read(keys[target.Name].A), Read(keys[target.Name].B)), device: network.Device);
    }

    static PeftAdapterConfig ReadConfig(string directory)
    {
        var path = Path.Combine(directory, PeftAdapterConfig.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"'{directory}' has no {PeftAdapterConfig.FileName}", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}"); }
        return PeftAdapterConfig.Parse(root as JsonObject
            ?? throw new InvalidDataException($"{path}: not a JSON object"));
    }

    /// <summary>The A and B keys of every adapted module, each checked against the module's shape.</summary>
    static Dictionary<string, (string A, string B)> FactorKeys(SafetensorsFile file, PeftAdapterConfig config, CausalLanguageModel network)
    {
        var targets = network.LoraTargets().ToDictionary(t => t.Name, StringComparer.Ordinal);
        var a = new Dictionary<string, string>(StringComparer.Ordinal);
        var b = new Dictionary<string, string>(StringComparer.Ordinal);
        string? adapterName = null;
        foreach (var key in file.TensorNames)
        {
            var match = FactorKey().Match(key);
            if (!match.Success)
                throw Refuse(key, $"is not a LoRA factor (expected {KeyPrefix}<module>.lora_A.weight or .lora_B.weight)");
            string module = match.Groups["module"].Value, factor = match.Groups["factor"].Value;
            string name = match.Groups["adapter"].Value;
            if ((adapterName ??= name) != name)
                throw Refuse(key, $"belongs to adapter '{name}', but the file's first factor belongs to '{adapterName}': one adapter per directory");
            if (!targets.TryGetValue(module, out var target))
                throw Refuse(key, $"names module '{module}', which is not a LoRA target of this {network.Config.Family.Architecture()} ({network.Config.NumHiddenLayers} layers; q/k/v/o_proj, gate/up/down_proj, lm_head)");
            long[] expected = factor == "A" ? [config.Rank, target.InFeatures] : [target.OutFeatures, config.Rank];
            var shape = file.Shape(key);
            if (!shape.SequenceEqual(expected))
                throw Refuse(key, $"has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", expected)}] (r = {config.Rank}; {module} maps {target.InFeatures} → {target.OutFeatures})");
            var factors = factor == "A" ? a : b;
            if (!factors.TryAdd(module, key)) throw Refuse(key, $"repeats lora_{factor} of '{module}' (also '{factors[module]}')");
        }
        foreach (var module in a.Keys.Union(b.Keys))
        {
            if (!a.ContainsKey(module)) throw Refuse(Key(module, "A"), $"is missing ({b[module]} is present)");
            if (!b.ContainsKey(module)) throw Refuse(Key(module, "B"), $"is missing ({a[module]} is present)");
        }
        if (a.Count == 0) throw Refuse("(file)", "holds no LoRA factors");
        return a.Keys.ToDictionary(m => m, m => (a[m], b[m]), StringComparer.Ordinal);
    }

    static string Key(string module, string factor) => $"{KeyPrefix}{module}.lora_{factor}.weight";

    static string ShortName(string module) => module[(module.LastIndexOf('.') + 1)..];

    static InvalidDataException Refuse(string key, string reason) => new($"{WeightsFileName}: '{key}' {reason}");
}
