using Whetstone.Engine.Models;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>train_vision_tower asks for LoRA on the tower's blocks: refused, naming the field,
/// where there is nothing to adapt — a text-only base model, or a frozen pretrained encoder
/// (its weights are outside the network; only the projector, under train_mlp, can learn).</summary>
internal static class VisionTowerLora
{
    public static void Check(P.CreateTrainingRunRequest request, string modelDirectory)
    {
        var vision = ModelConfig.Load(modelDirectory).Vision;
        if (vision is null)
            throw ApiError.BadRequest("train_vision_tower", $"= true, but base model '{request.BaseModel}' has no vision tower");
        if (vision.FrozenEncoder is { } frozen)
            throw ApiError.BadRequest("train_vision_tower", $"= true, but base model '{request.BaseModel}' has the frozen encoder '{frozen}' as its tower, which has no LoRA targets (the projector follows train_mlp)");
        if (request.FullFineTuning)
            throw ApiError.BadRequest("train_vision_tower", "= true is a LoRA option, but full_fine_tuning is on (every weight trains)");
    }
}
