using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Whetstone.Engine.Formats;

/// <summary>Writes model weights the way Hugging Face's save_pretrained does: one
/// model.safetensors, or — past <c>maxShardBytes</c> — shards
/// model-0000i-of-0000n.safetensors with a model.safetensors.index.json weight map.</summary>
public static class CheckpointWriter
{
    public static void Write(string directory, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, long? maxShardBytes = null,
        IReadOnlySet<string>? float8Names = null)
    {
        Directory.CreateDirectory(directory);
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long current = 0, total = 0;
        foreach (var entry in tensors)
        {
            long bytes = entry.Value.numel() * entry.Value.element_size();
            if (maxShardBytes is long max && current > 0 && current + bytes > max)
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(entry);
            current += bytes;
            total += bytes;
        }

        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), shards[0], float8Names: float8Names);
            return;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsWriter.Write(Path.Combine(directory, file), shards[i], float8Names: float8Names);
            foreach (var (name, _) in shards[i]) weightMap[name] = file;
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = total },
            ["weight_map"] = weightMap,
        };
        AtomicFile.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"),
            index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
