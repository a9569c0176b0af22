namespace Whetstone.Client;

/// <summary>What a checkpoint download contains.</summary>
public enum CheckpointDownloadFormat
{
    /// <summary>A standard PEFT adapter: adapter_config.json and adapter_model.safetensors.</summary>
    Peft,

    /// <summary>The adapter merged into the base model: full Hugging Face weights.</summary>
    Merged,

    /// <summary>That merged model as one GGUF file (f16 matrices) for llama.cpp.</summary>
    Gguf,
}
