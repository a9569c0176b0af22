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
        var tensors = run.Optimizer.Parameters.Select((p, i) => new KeyValuePair<string, Tensor>(p.Name, run.Optimizer.Weight(i)))
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
            file.Contains($"{target.Name}.lora_B.weight")
                ? (file.Read(SharedExpertA.ParameterNameOfA(config, target.Name)), file.Read($"{target.Name}.lora_B.weight"))
                : null,
            config.ValueHead ? ValueHead.FromTensors(file.Read(ValueHead.WeightName), file.Read(ValueHead.BiasName), network.Config.HiddenSize, network.Device) : null,
            network.Device);
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
        // Check every tensor before changing any: a refused load leaves the run as it was.
        foreach (var (name, parameter) in run.Optimizer.Parameters)
        {
            if (!file.Contains(name)) throw new InvalidDataException($"checkpoint '{directory}' has no tensor '{name}'");
            if (!file.Shape(name).SequenceEqual(parameter.shape))
                throw new InvalidDataException($"checkpoint '{directory}': '{name}' has shape [{string.Join(", ", file.Shape(name))}], the run has [{string.Join(", ", parameter.shape)}]");
        }
        // Gradients accumulated before the load belong to the old weights.
        run.ZeroGradients();
        for (int i = 0; i < run.Optimizer.Parameters.Count; i++)
        {
            using var stored = file.Read(run.Optimizer.Parameters[i].Name);
            run.Optimizer.LoadWeight(i, stored);
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
