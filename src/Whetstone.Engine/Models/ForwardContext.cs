using static TorchSharp.torch;

namespace Whetstone.Engine.Models;

/// <summary>What every layer of one forward pass shares: rotary angles for the tokens'
/// positions and, when decoding, the cache with the positions to write and a mask.</summary>
internal sealed class ForwardContext
{
    public required Tensor Cos { get; init; }        // [B, T, 1, D]
    public required Tensor Sin { get; init; }        // [B, T, 1, D]
    public required Tensor Positions { get; init; }  // [B, T] int64
    public KvCache? Cache { get; init; }
    /// <summary>LoRA adapters per batch row; null = base model only.</summary>
    public Lora.AdapterBatch? Adapters { get; init; }
    /// <summary>MoE layers record their experts here, or replay them from here; null = neither.</summary>
    public ExpertRouting? Routing { get; init; }
    /// <summary>Keys visible to the queries: [B, 1, T, L] bool, true = attend. Set with a cache.</summary>
    public Tensor? Mask { get; init; }
    /// <summary>Cache entries [0, L) that the attention reads. Set with a cache.</summary>
    public long KeyLength { get; init; }
    /// <summary>Qwen3-VL deepstack: entry K ([B, T, hidden], zero off the image positions) is added
    /// to the hidden states after decoder layer K; null = none.</summary>
    public IReadOnlyList<Tensor>? Deepstack { get; init; }
}
