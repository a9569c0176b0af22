using TorchSharp.Utils;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>Token embedding, the decoder layers and the final norm: Hugging Face's "model.*".</summary>
internal sealed class DecoderStack : nn.Module
{
    [ComponentName(Name = "embed_tokens")] readonly TokenEmbedding _embedTokens;
    [ComponentName(Name = "layers")] readonly ModuleList<DecoderLayer> _layers;
    [ComponentName(Name = "norm")] readonly RmsNorm _norm;

    public DecoderStack(WeightLoader weights, string name, ModelConfig config) : base(name)
    {
        _embedTokens = new TokenEmbedding(weights, $"{name}.embed_tokens", config.VocabSize, config.HiddenSize);
        _layers = new ModuleList<DecoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++)
            _layers.Add(new DecoderLayer(weights, $"{name}.layers.{i}", config, i));
        _norm = new RmsNorm(weights, $"{name}.norm", config.HiddenSize, config.RmsNormEps);
        RegisterComponents();
    }

    public Tensor EmbeddingWeight => _embedTokens.Weight;
    public IEnumerable<DecoderLayer> Layers => _layers;

    /// <summary>The final norm alone (a reference in the tests composes the layers itself).</summary>
    public Tensor Norm(Tensor x) => _norm.Forward(x);

    public Tensor Forward(Tensor tokens, ForwardContext context) => ForwardEmbeddings(Embed(tokens), context);

    public Tensor Embed(Tensor tokens) => _embedTokens.Forward(tokens);              // [B, T] → [B, T, hidden]

    /// <summary>The layers and the final norm over given input embeddings (image positions spliced in).</summary>
    public Tensor ForwardEmbeddings(Tensor x, ForwardContext context)
    {
        for (int i = 0; i < _layers.Count; i++)
        {
            x = _layers[i].Forward(x, context);
            if (context.Deepstack is { } deepstack && i < deepstack.Count) x = x + deepstack[i];
        }
        return _norm.Forward(x);
    }
}
