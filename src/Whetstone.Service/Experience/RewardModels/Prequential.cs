using Whetstone.Protocol;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>Prequential ("predict, then learn") accuracy: every event is scored by the version
/// before the update that trains on it, so the accuracy measures the model on feedback it has not
/// seen — the streaming analogue of held-out accuracy. One point per update, plus the running total.</summary>
internal static class Prequential
{
    public static IReadOnlyList<PrequentialPoint> Series(IReadOnlyList<RewardModelPredictionRecord> predictions, IReadOnlyList<RewardModelVersionRecord> versions)
    {
        var made = versions.ToDictionary(v => v.Version, v => v.CreatedAt);
        var points = new List<PrequentialPoint>();
        int totalPredicted = 0, totalCorrect = 0;
        foreach (var group in predictions.GroupBy(p => p.PredictedBy).OrderBy(g => g.Key))
        {
            int predicted = group.Count(), correct = group.Count(p => p.Correct);
            totalPredicted += predicted;
            totalCorrect += correct;
            int version = group.Key + 1;   // the update whose new events these were
            points.Add(new PrequentialPoint(version, made.GetValueOrDefault(version, group.First().CreatedAt), predicted, correct,
                (double)correct / predicted, totalPredicted, (double)totalCorrect / totalPredicted));
        }
        return points;
    }
}
