using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>The token embedding table [vocab, hidden], a module of its own so that its parameter
/// is named "….embed_tokens.weight" as in Hugging Face checkpoints.</summary>
internal sealed class TokenEmbedding : nn.Module
{
    [ComponentName(Name = "weight")] readonly Parameter _weight;

    public TokenEmbedding(WeightLoader weights, string name, long vocab, long hidden) : base(name)
    {
        _weight = weights.Parameter($"{name}.weight", vocab, hidden);
        RegisterComponents();
    }

    public Tensor Weight => _weight;

    // [B, T] → [B, T, hidden]
    public Tensor Forward(Tensor tokens) => _weight.index_select(0, tokens.flatten()).view(tokens.shape[0], tokens.shape[1], -1);
}
