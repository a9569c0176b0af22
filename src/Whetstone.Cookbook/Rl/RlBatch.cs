namespace Whetstone.Cookbook.Rl;

/// <summary>The episodes sampled for one training step, the sampler version they came from and
/// the time sampling them took.</summary>
public sealed record RlBatch(int Step, IReadOnlyList<TrajectoryGroup> Groups, int SamplerVersion, double SampleSeconds)
{
    /// <summary>Optimizer steps between the sampler's weights and the weights this batch trains
    /// (0: on-policy).</summary>
    public int Staleness => Step - 1 - SamplerVersion;
}
