using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>Qwen3-VL's "model.*" (Qwen3VLModel): the LM under model.language_model.* and the
/// tower under model.visual.*, so that parameter names match the checkpoint's one to one.</summary>
internal sealed class Qwen3VlModel : nn.Module
{
    [ComponentName(Name = "language_model")] readonly DecoderStack _languageModel;
    [ComponentName(Name = "visual")] readonly Qwen3VisionTower _visual;

    public Qwen3VlModel(WeightLoader weights, string name, ModelConfig config) : base(name)
    {
        _languageModel = new DecoderStack(weights, $"{name}.language_model", config);
        _visual = new Qwen3VisionTower(weights, $"{name}.visual", config.Vision!);
        RegisterComponents();
    }

    public DecoderStack LanguageModel => _languageModel;
    public Qwen3VisionTower Visual => _visual;
}
