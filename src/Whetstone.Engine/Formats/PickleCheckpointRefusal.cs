namespace Whetstone.Engine.Formats;

/// <summary>Hugging Face checkpoints saved with torch.save (pytorch_model.bin, or shards listed in
/// pytorch_model.bin.index.json) are Python pickles: reading one means running arbitrary code, so
/// we refuse them and name the one-line conversion to safetensors that fixes it.</summary>
internal static class PickleCheckpointRefusal
{
    public const string SingleFile = "pytorch_model.bin";
    public const string IndexFile = "pytorch_model.bin.index.json";

    /// <summary>The refusal for <paramref name="directory"/>, or null when it holds no pickled weights.</summary>
    public static NotSupportedException? For(string directory)
    {
        string? found = File.Exists(Path.Combine(directory, IndexFile)) ? IndexFile
            : File.Exists(Path.Combine(directory, SingleFile)) ? SingleFile
            : Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "pytorch_model-*.bin").Select(Path.GetFileName).FirstOrDefault()
            : null;
        if (found is null) return null;
        return new NotSupportedException(
            $"'{directory}' holds PyTorch pickle weights ({found}), which are not loaded (unpickling runs arbitrary code); " +
            "convert them to safetensors once, e.g. python -c \"from transformers import AutoModelForCausalLM as M; " +
            $"M.from_pretrained('{directory}').save_pretrained('{directory}-safetensors', safe_serialization=True)\", " +
            "and load the new directory (model.safetensors or model.safetensors.index.json)");
    }
}
