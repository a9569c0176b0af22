using Whetstone.Protocol;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>Refuses settings a reward model cannot learn with, naming the field and its limit.</summary>
internal static class RewardModelSettingsCheck
{
    public const int MaxBatchEvents = 1024;

    public static void Check(RewardModelSettings? s)
    {
        if (s is null) throw ApiError.BadRequest("settings", "must be an object (or left out for the defaults)");
        if (s.Rank is < 1 or > 256) throw ApiError.BadRequest("settings.rank", $"= {s.Rank} must be from 1 to 256");
        if (s.BatchEvents is < 1 or > MaxBatchEvents) throw ApiError.BadRequest("settings.batch_events", $"= {s.BatchEvents} must be from 1 to {MaxBatchEvents}");
        if (!(s.IntervalSeconds >= 1 && s.IntervalSeconds <= 86_400)) throw ApiError.BadRequest("settings.interval_seconds", $"= {s.IntervalSeconds} must be from 1 to 86400");
        if (!(s.ReplayFraction >= 0 && s.ReplayFraction <= 0.9)) throw ApiError.BadRequest("settings.replay_fraction", $"= {s.ReplayFraction} must be from 0 to 0.9");
        if (!(s.UserCap > 0 && s.UserCap <= 1)) throw ApiError.BadRequest("settings.user_cap", $"= {s.UserCap} must be in (0, 1] (1 = no cap)");
        if (!(s.LearningRate > 0 && s.LearningRate <= 1)) throw ApiError.BadRequest("settings.learning_rate", $"= {s.LearningRate} must be in (0, 1]");
        if (s.StepsPerUpdate is < 1 or > 64) throw ApiError.BadRequest("settings.steps_per_update", $"= {s.StepsPerUpdate} must be from 1 to 64");
    }
}
