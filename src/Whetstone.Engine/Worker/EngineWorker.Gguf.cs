using Whetstone.Engine.Formats;
using Whetstone.Engine.Formats.Gguf;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Worker;

public sealed partial class EngineWorker
{
    /// <summary>A sampler checkpoint as one GGUF file llama.cpp loads, written on the worker's
    /// thread: a LoRA adapter merged into the base in fp32 and stored as f16 (one rounding, as
    /// `whet export gguf` does); a full fine-tuning run's model, kept in bf16, stored as bf16.</summary>
    public Task ExportGgufAsync(string checkpointDirectory, bool fullModel, string outputFile) => OnThreadAsync(() =>
    {
        if (!fullModel)
        {
            GgufExporter.Export(ModelDirectory, outputFile, ScalarType.Float16, checkpointDirectory);
            return true;
        }
        var staging = outputFile + ".model";
        try
        {
            // The full checkpoint holds weights only: written out as a whole HF directory first (tokenizer included).
            using (var model = PretrainedModel.Load(checkpointDirectory, ScalarType.BFloat16))
                MergedModelWriter.WriteFullModel(checkpointDirectory, model.Network, staging, ScalarType.BFloat16);
            GgufExporter.Export(staging, outputFile, ScalarType.BFloat16);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
        return true;
    });
}
