using TorchSharp.Utils;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Token embedding, the decoder layers and the final norm: Hugging Face's "model.*".</summary>
internal sealed class DecoderStack : nn.Module
{
    [ComponentName(Name = "embed_tokens")] readonly Parameter _embedTokens;
    [ComponentName(Name = "layers")] readonly ModuleList<DecoderLayer> _layers;
    [ComponentName(Name = "norm")] readonly RmsNorm _norm;

    public DecoderStack(WeightLoader weights, string name, ModelConfig config) : base(name)
    {
        _embedTokens = weights.Parameter($"{name}.embed_tokens.weight", config.VocabSize, config.HiddenSize);
        _layers = new ModuleList<DecoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++)
            _layers.Add(new DecoderLayer(weights, $"{name}.layers.{i}", config, i));
        _norm = new RmsNorm(weights, $"{name}.norm", config.HiddenSize, config.RmsNormEps);
        RegisterComponents();
    }

    public Tensor EmbeddingWeight => _embedTokens;
    public IEnumerable<DecoderLayer> Layers => _layers;

    public Tensor Forward(Tensor tokens, ForwardContext context)
    {
        var x = _embedTokens.index_select(0, tokens.flatten()).view(tokens.shape[0], tokens.shape[1], -1);  // [B, T, hidden]
        foreach (var layer in _layers) x = layer.Forward(x, context);
        return _norm.Forward(x);
    }
}
