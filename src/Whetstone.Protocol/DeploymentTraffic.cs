namespace Whetstone.Protocol;

/// <summary>A canary split of name@latest: Percent (0–100) of its requests go to CandidateVersion,
/// the rest to the current version. Which arm a request gets is a hash of its `user`, else of its
/// `seed`, so the same user (or seed) always gets the same arm; a request with neither is drawn at
/// random. CandidateVersion null clears the split.</summary>
public sealed record SetDeploymentTrafficRequest
{
    public int? CandidateVersion { get; init; }
    public double Percent { get; init; }
}
