namespace Whetstone.Engine.Planning;

/// <summary>The hardware and accounting the planner assumes, each a stated number (defaults: an
/// H100 SXM node). Printed with every plan so a figure can be traced to what it rests on.</summary>
public sealed record PlanAssumptions
{
    public int GpusPerNode { get; init; } = 8;
    /// <summary>Dense bf16 tensor-core peak per GPU (H100 SXM: 989 TFLOP/s).</summary>
    public double PeakTflops { get; init; } = 989;
    /// <summary>Fraction of peak the matrix products reach (model FLOPs utilisation).</summary>
    public double Mfu { get; init; } = 0.40;
    /// <summary>NVLink bandwidth per GPU per direction, GB/s (H100: 900 GB/s bidirectional).</summary>
    public double IntraNodeGBps { get; init; } = 450;
    /// <summary>Network bandwidth per GPU, GB/s (one 400 Gb/s NIC per GPU).</summary>
    public double InterNodeGBps { get; init; } = 50;
    /// <summary>Share of GPU memory usable by tensors (the rest: CUDA context, allocator fragmentation).</summary>
    public double UsableMemoryFraction { get; init; } = 0.90;
    /// <summary>Logits are computed this many tokens at a time (fp32, with their gradient).</summary>
    public int LogitChunkTokens { get; init; } = 4096;
    /// <summary>Bytes per trainable parameter: fp32 weight, fp32 gradient, Adam's m and v.</summary>
    public int LoraBytesPerParameter { get; init; } = 16;

    public IEnumerable<string> Lines() =>
    [
        $"{GpusPerNode} GPUs per node; {PeakTflops} TFLOP/s dense bf16 per GPU at {Mfu:P0} MFU",
        $"NVLink {IntraNodeGBps} GB/s per GPU (TP, and EP/DP within a node); network {InterNodeGBps} GB/s per GPU across nodes",
        $"{UsableMemoryFraction:P0} of GPU memory usable; logits in fp32, {LogitChunkTokens} tokens at a time",
        "microbatch = 1 sequence; 1F1B pipeline (first stage holds PP microbatches), bubble (PP-1)/microbatches",
        "full activation recomputation: each layer keeps only its bf16 input (÷TP with sequence parallelism) plus one layer's working set (34·s·h bytes ÷TP, flash attention)",
        $"LoRA: frozen base weights, adapters at {LoraBytesPerParameter} B/param (fp32 weight, grad, Adam m, v); backward computes activation gradients only (≈ 3 forward passes with recomputation)",
        "full fine-tuning: bf16 weights 2 B + fp32 grads 4 B + fp32 master and Adam m, v 12 B/param sharded over the parameter's data-parallel replicas (distributed optimizer); ≈ 4 forward passes",
        "communication not overlapped with compute (conservative): TP all-gather/reduce-scatter, EP all-to-all (dispatch + combine), DP gradient reduce-scatter + all-gather",
        "rollout KV cache: sampling on the same GPUs with the same layout; the MLA latent is not split by TP",
    ];
}
