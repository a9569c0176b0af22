using System.CommandLine;
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

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Dtype);
    }

    public PretrainedModel Load(ParseResult result) =>
        PretrainedModel.Load(result.GetValue(Model)!, ComputeDtype.Parse(result.GetValue(Dtype)!));
}
