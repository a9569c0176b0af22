using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Training;

/// <summary>A run's full training state in a directory: trainable weights and AdamW moments
/// (state.safetensors), the step and settings (state.json), and a manifest of SHA-256 checksums.
/// The directory is written under a temporary name and renamed into place, so a checkpoint is
/// either whole or absent; loading verifies every checksum before reading a byte of state.</summary>
public static class TrainingCheckpoint
{
    const string Format = "whetstone-training-state/1";

    public static void Save(TrainingRun run, string directory)
    {
        using var scope = NewDisposeScope();
        var tensors = run.Optimizer.Parameters.Select(p => new KeyValuePair<string, Tensor>(p.Name, p.Parameter.detach()))
            .Concat(run.Optimizer.State()).ToList();
        var state = new JsonObject
        {
            ["format"] = Format,
            ["kind"] = run.IsFullFineTuning ? "full" : "lora",
            ["step"] = run.Step,
            ["architecture"] = run.Network.Config.Family.Architecture(),
        };
        if (run.Adapter is { } adapter) state["lora"] = LoraConfigJson.ToJson(adapter.Config);
        CheckpointDirectory.Write(directory, staging =>
        {
            SafetensorsWriter.Write(Path.Combine(staging, "state.safetensors"), tensors);
            AtomicFile.WriteAllText(Path.Combine(staging, "state.json"), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        });
    }

    /// <summary>Restores a LoRA run from a checkpoint onto <paramref name="network"/>;
    /// <paramref name="withOptimizer"/> false starts the optimizer fresh (Tinker's load_state).</summary>
    public static TrainingRun LoadLora(CausalLanguageModel network, string directory, bool withOptimizer)
    {
        var state = ReadState(directory, "lora");
        var config = LoraConfigJson.FromJson(state["lora"]!.AsObject());
        using var file = new SafetensorsFile(Path.Combine(directory, "state.safetensors"));
        var adapter = LoraAdapter.FromTensors(network.LoraTargets(), config, target =>
            file.Contains($"{target.Name}.lora_A.weight")
                ? (file.Read($"{target.Name}.lora_A.weight"), file.Read($"{target.Name}.lora_B.weight"))
                : null);
        var run = TrainingRun.FromAdapter(network, adapter);
        if (withOptimizer) run.Optimizer.Restore(state["step"]!.GetValue<long>(), file.Read);
        return run;
    }

    /// <summary>Restores weights (and optionally the optimizer) of an existing run in place:
    /// the way a full fine-tuning run, which owns its network, resumes.</summary>
    public static void LoadInto(TrainingRun run, string directory, bool withOptimizer)
    {
        var state = ReadState(directory, run.IsFullFineTuning ? "full" : "lora");
        using var file = new SafetensorsFile(Path.Combine(directory, "state.safetensors"));
        using (no_grad())
            foreach (var (name, parameter) in run.Optimizer.Parameters)
            {
                if (!file.Contains(name)) throw new InvalidDataException($"checkpoint '{directory}' has no tensor '{name}'");
                using var stored = file.Read(name);
                if (!stored.shape.SequenceEqual(parameter.shape))
                    throw new InvalidDataException($"checkpoint '{directory}': '{name}' has shape [{string.Join(", ", stored.shape)}], the run has [{string.Join(", ", parameter.shape)}]");
                parameter.copy_(stored);
            }
        if (withOptimizer) run.Optimizer.Restore(state["step"]!.GetValue<long>(), file.Read);
        else run.Optimizer.Reset();
    }

    static JsonObject ReadState(string directory, string expectedKind)
    {
        CheckpointDirectory.Verify(directory);
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "state.json")))!.AsObject();
        if (state["format"]?.GetValue<string>() != Format)
            throw new InvalidDataException($"checkpoint '{directory}': format '{state["format"]}' is not {Format}");
        if (state["kind"]?.GetValue<string>() != expectedKind)
            throw new InvalidDataException($"checkpoint '{directory}' holds a '{state["kind"]}' run, not '{expectedKind}'");
        return state;
    }
}

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

internal static class LoraConfigJson
{
    public static JsonObject ToJson(LoraConfig c) => new()
    {
        ["rank"] = c.Rank, ["alpha"] = c.Alpha, ["train_attn"] = c.TrainAttention,
        ["train_mlp"] = c.TrainMlp, ["train_unembed"] = c.TrainUnembed, ["seed"] = c.Seed,
        ["use_rslora"] = c.UseRsLora,
    };

    public static LoraConfig FromJson(JsonObject json) => new()
    {
        Rank = json["rank"]!.GetValue<int>(),
        Alpha = json["alpha"]!.GetValue<double>(),
        TrainAttention = json["train_attn"]!.GetValue<bool>(),
        TrainMlp = json["train_mlp"]!.GetValue<bool>(),
        TrainUnembed = json["train_unembed"]!.GetValue<bool>(),
        Seed = json["seed"]!.GetValue<long>(),
        // Absent in checkpoints written before rsLoRA adapters could be imported.
        UseRsLora = json["use_rslora"]?.GetValue<bool>() ?? false,
    };
}
