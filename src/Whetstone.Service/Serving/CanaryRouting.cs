using System.Globalization;

namespace Whetstone.Service.Serving;

/// <summary>Which arm of a canary split answers a request: a stable hash of the deployment's name
/// and the request's routing key into 10,000 buckets, the first percent·100 of which go to the
/// candidate. SHA-256, not string.GetHashCode, so the same key gets the same arm across processes
/// and restarts. The key is the request's <see cref="Keys.PerUser"/> (its `user`, else its `seed`)
/// under a per-user split, its <see cref="Keys.PerRequest"/> under a per-request split (the loop's
/// canary.split; see DeploymentService.SplitOfAsync).</summary>
internal static class CanaryRouting
{
    public const string Stable = "stable", Candidate = "candidate";
    const int Buckets = 10_000;

    /// <summary>The two routing keys of one request. PerRequest hashes the user, the seed and the
    /// prompt as sent: the same request always lands on the same arm (a retry is answered alike), and
    /// a client that sends one fixed seed with every request still spreads its prompts over both arms.</summary>
    public sealed record Keys(string? PerUser, string PerRequest);

    public static Keys KeysOf(OpenAi.OpenAiRequest request) => KeysOf(request.User, request.Seed, request.AsSent.GetRawText());

    public static Keys KeysOf(string? user, int? seed, string promptAsSent) =>
        new(KeyOf(user, seed), "request:" + StableHash.Of($"{user}\n{seed?.ToString(CultureInfo.InvariantCulture)}\n{promptAsSent}").ToString(CultureInfo.InvariantCulture));

    public static string? KeyOf(string? user, int? seed) =>
        user is not null ? "user:" + user : seed is { } s ? "seed:" + s.ToString(CultureInfo.InvariantCulture) : null;

    /// <summary>True when the request goes to the candidate. A null key is drawn at random.</summary>
    public static bool ToCandidate(string deployment, string? key, double percent)
    {
        if (percent <= 0) return false;
        if (percent >= 100) return true;
        int bucket = key is null ? Random.Shared.Next(Buckets) : Bucket(deployment, key);
        return bucket < percent * (Buckets / 100.0);
    }

    public static int Bucket(string deployment, string key) => (int)(StableHash.Of(deployment + "\n" + key) % Buckets);
}
