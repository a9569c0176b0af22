using Whetstone.Engine.Lora;
using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>A vision tower as the LM sees it: Qwen2.5-VL's <see cref="VisionTower"/> or Qwen3-VL's
/// <see cref="Qwen3VisionTower"/>.</summary>
internal interface IVisionEncoder
{
    /// <summary>The images of one batch row (batch of one adapter) → their LM features.</summary>
    VisionFeatures Encode(IReadOnlyList<ImagePatches> images, AdapterBatch? adapters, ScalarType dtype);
    IEnumerable<LinearProjection> TowerProjections { get; }
    IEnumerable<LinearProjection> ProjectorProjections { get; }
}

/// <summary>Embeddings: [Σ tokens, out_hidden], written over the image pad tokens. Deepstack
/// (Qwen3-VL; empty otherwise): one [Σ tokens, out_hidden] per level K, added to the hidden states
/// at the same positions after decoder layer K.</summary>
internal sealed record VisionFeatures(Tensor Embeddings, IReadOnlyList<Tensor> Deepstack);
