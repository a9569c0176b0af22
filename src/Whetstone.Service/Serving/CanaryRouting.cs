namespace Whetstone.Service.Serving;

/// <summary>Which arm of a canary split answers a request: a stable hash of the deployment's name
/// and the request's routing key (its `user`, else its `seed`) into 10,000 buckets, the first
/// percent·100 of which go to the candidate. SHA-256, not string.GetHashCode, so the same user gets
/// the same arm across processes and restarts.</summary>
internal static class CanaryRouting
{
    public const string Stable = "stable", Candidate = "candidate";
    const int Buckets = 10_000;

    public static string? KeyOf(string? user, int? seed) =>
        user is not null ? "user:" + user : seed is { } s ? "seed:" + s.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;

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
