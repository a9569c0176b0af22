using System.Text.Json;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>A version of a deployment's reward model and its lineage: StatePath is its training
/// state (whet://…/weights/rm-vN); FeedbackIds the feedback it was the first to train on,
/// ReplayIds the older feedback replayed into its micro-batch; Metrics the update's numbers.</summary>
internal sealed record RewardModelVersion(string Deployment, int Version, string StatePath, DateTimeOffset CreatedAt,
    IReadOnlyList<string> FeedbackIds, IReadOnlyList<string> ReplayIds, IReadOnlyDictionary<string, double> Metrics)
{
    public static RewardModelVersion From(RewardModelVersionRecord r) => new(r.Deployment, r.Version, r.StatePath, r.CreatedAt,
        JsonSerializer.Deserialize<string[]>(r.FeedbackIdsJson)!, JsonSerializer.Deserialize<string[]>(r.ReplayIdsJson)!,
        JsonSerializer.Deserialize<Dictionary<string, double>>(r.MetricsJson)!);

    public Protocol.RewardModelVersionInfo ToProtocol() => new(Version, StatePath, CreatedAt, FeedbackIds, ReplayIds, Metrics);
}

/// <summary>What one micro-batch update did: the version it made, and how the version before it
/// predicted the new events before training on them (prequential).</summary>
internal sealed record RewardModelUpdate(RewardModelVersion Version, int NewEvents, int ReplayEvents, int Predicted, int PredictedCorrect)
{
    public double PrequentialAccuracy => Predicted == 0 ? double.NaN : (double)PredictedCorrect / Predicted;
}
