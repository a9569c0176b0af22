namespace Whetstone.Engine.Lora;

/// <summary>Which projections get a low-rank update and how large it is (Tinker's defaults:
/// rank 32, every target group on). The update is scaled by alpha / rank, or by alpha / √rank
/// with <see cref="UseRsLora"/>.</summary>
public sealed record LoraConfig
{
    public int Rank { get; init; } = 32;
    public double Alpha { get; init; } = 32;
    /// <summary>q_proj, k_proj, v_proj, o_proj.</summary>
    public bool TrainAttention { get; init; } = true;
    /// <summary>gate_proj, up_proj, down_proj.</summary>
    public bool TrainMlp { get; init; } = true;
    /// <summary>lm_head (the unembedding; also when tied to the embedding).</summary>
    public bool TrainUnembed { get; init; } = true;
    /// <summary>The vision tower's blocks (attn.qkv, attn.proj, mlp.*) of a vision-language
    /// model; its projector (visual.merger.mlp.*) follows <see cref="TrainMlp"/>. Off by default.</summary>
    public bool TrainVisionTower { get; init; }
    /// <summary>Seeds the random initialisation of the A matrices.</summary>
    public long Seed { get; init; }

    /// <summary>Rank-stabilised LoRA (Kalajdzievski 2023, PEFT's use_rslora): scale alpha / √rank,
    /// which keeps the update's size from shrinking as the rank grows. Off by default, as in PEFT;
    /// it matters here so that adapters trained that way import with their own scale.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>Routed experts share one A per layer and projection, with a B per expert
    /// (<see cref="Lora.SharedExpertA"/>); off: every expert has its own A and B.</summary>
    public bool SharedExpertA { get; init; }

    /// <summary>Train a scalar <see cref="ValueHead"/> with the adapter (a reward model).</summary>
    public bool ValueHead { get; init; }

    public double Scale => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    public void Validate()
    {
        if (Rank < 1) throw new ArgumentException($"rank = {Rank} must be at least 1");
        if (Alpha <= 0 || double.IsNaN(Alpha)) throw new ArgumentException($"alpha = {Alpha} must be positive");
        if (!TrainAttention && !TrainMlp && !TrainUnembed)
            throw new ArgumentException("train_attn, train_mlp and train_unembed are all off: nothing to train");
    }

    public bool Targets(LoraTargetGroup group) => group switch
    {
        LoraTargetGroup.Attention => TrainAttention,
        LoraTargetGroup.Mlp => TrainMlp,
        LoraTargetGroup.Unembed => TrainUnembed,
        LoraTargetGroup.VisionTower => TrainVisionTower,
        _ => false,
    };
}

public enum LoraTargetGroup { Attention, Mlp, Unembed, VisionTower }

/// <summary>One projection LoRA can attach to, by its Hugging Face module path.</summary>
public sealed record LoraTarget(string Name, long InFeatures, long OutFeatures, LoraTargetGroup Group);
