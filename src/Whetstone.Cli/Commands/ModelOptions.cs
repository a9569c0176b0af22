using System.CommandLine;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Runtime;

namespace Whetstone.Cli.Commands;

/// <summary>The options every command that loads a model shares.</summary>
internal sealed class ModelOptions
{
    public Option<string> Model { get; } = new("--model", "-m")
    {
        Description = "Hugging Face model directory (config.json, *.safetensors, tokenizer.json)",
        Required = true,
    };

    public Option<string> Dtype { get; } = new("--dtype")
    {
        Description = "Compute dtype: fp32, bf16 or auto (bf16 only where this CPU runs it faster)",
        DefaultValueFactory = _ => "auto",
    };

    public Option<string> Device { get; } = DeviceOption.Create();

    public Option<string?> Adapter { get; } = new("--adapter", "-a")
    {
        Description = "PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors) to apply",
    };

    public void AddTo(Command command, bool withAdapter = false)
    {
        command.Options.Add(Model);
        command.Options.Add(Dtype);
        command.Options.Add(Device);
        if (withAdapter) command.Options.Add(Adapter);
    }

    /// <summary>The --adapter, loaded onto <paramref name="model"/>'s network, or null.</summary>
    public LoraAdapter? LoadAdapter(ParseResult result, PretrainedModel model) =>
        result.GetValue(Adapter) is string directory ? PeftAdapter.Load(directory, model.Network) : null;

    /// <summary>Loads --model on --device (checked first: a refused device loads nothing) in --dtype
    /// (auto: bf16 on a GPU).</summary>
    public PretrainedModel Load(ParseResult result)
    {
        var device = DeviceOption.Resolve(result, Device);
        return PretrainedModel.Load(result.GetValue(Model)!, ComputeDtype.Parse(result.GetValue(Dtype)!, device), device);
    }
}
