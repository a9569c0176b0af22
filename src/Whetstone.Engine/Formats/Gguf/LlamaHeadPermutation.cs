using static TorchSharp.torch;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>
/// The row order llama.cpp expects for Llama's q_proj and k_proj. Hugging Face's Llama applies
/// RoPE to the two halves of each head (rotate_half); Meta's original weights, and ggml's
/// "normal" RoPE used for the llama architecture, rotate adjacent pairs. convert_hf_to_gguf
/// therefore interleaves each head's rows: row (half h, index i) moves to position 2i + h.
/// Qwen2 and Qwen3 use ggml's NEOX RoPE, which rotates halves like Hugging Face, so they are
/// written unpermuted.
/// </summary>
public static class LlamaHeadPermutation
{
    /// <summary>Hugging Face order → GGUF order. Works on weights [heads·D, in] and biases [heads·D].</summary>
    public static Tensor ToGguf(Tensor weight, int heads)
    {
        var shape = weight.shape;
        long headDim = shape[0] / heads;
        var rest = shape.Skip(1).ToArray();
        return weight.reshape([heads, 2, headDim / 2, .. rest]).swapaxes(1, 2).reshape(shape).contiguous();
    }

    /// <summary>GGUF order → Hugging Face order: the inverse of <see cref="ToGguf"/>.</summary>
    public static Tensor ToHuggingFace(Tensor weight, int heads)
    {
        var shape = weight.shape;
        long headDim = shape[0] / heads;
        var rest = shape.Skip(1).ToArray();
        return weight.reshape([heads, headDim / 2, 2, .. rest]).swapaxes(1, 2).reshape(shape).contiguous();
    }
}
