using System.Text.Json.Nodes;
using Whetstone.Engine.Lora;

namespace Whetstone.Engine.Training;

internal static class LoraConfigJson
{
    public static JsonObject ToJson(LoraConfig c) => new()
    {
        ["rank"] = c.Rank, ["alpha"] = c.Alpha, ["train_attn"] = c.TrainAttention,
        ["train_mlp"] = c.TrainMlp, ["train_unembed"] = c.TrainUnembed, ["seed"] = c.Seed,
        ["use_rslora"] = c.UseRsLora, ["value_head"] = c.ValueHead, ["shared_expert_a"] = c.SharedExpertA,
        ["train_vision_tower"] = c.TrainVisionTower,
    };

    public static LoraConfig FromJson(JsonObject json) => new()
    {
        Rank = json["rank"]!.GetValue<int>(),
        Alpha = json["alpha"]!.GetValue<double>(),
        TrainAttention = json["train_attn"]!.GetValue<bool>(),
        TrainMlp = json["train_mlp"]!.GetValue<bool>(),
        TrainUnembed = json["train_unembed"]!.GetValue<bool>(),
        Seed = json["seed"]!.GetValue<long>(),
        // Absent in checkpoints written before rsLoRA adapters could be imported.
        UseRsLora = json["use_rslora"]?.GetValue<bool>() ?? false,
        // Absent in checkpoints written before reward models.
        ValueHead = json["value_head"]?.GetValue<bool>() ?? false,
        // Absent in checkpoints written before shared-A expert adapters.
        SharedExpertA = json["shared_expert_a"]?.GetValue<bool>() ?? false,
        // Absent in checkpoints written before LoRA on the vision tower was exposed.
        TrainVisionTower = json["train_vision_tower"]?.GetValue<bool>() ?? false,
    };
}
