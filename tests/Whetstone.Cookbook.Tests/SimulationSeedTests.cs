using Whetstone.Cookbook.SimulatedUsers;

namespace Whetstone.Cookbook.Tests;

/// <summary>A simulated user's draws depend on its id and the round alone, the same in every
/// process: 32-bit FNV-1a of the id's UTF-16 units, then the round, masked to a non-negative int
/// (the expected values computed independently in Python).</summary>
public class SimulationSeedTests
{
    [Fact]
    public void TheSeedIsFnv1aOfIdAndRound()
    {
        Assert.Equal(997339080, SimulationRound.StableSeed("sim-1-0", 3));
        Assert.Equal(1708083255, SimulationRound.StableSeed("sim-7-11", 0));
        Assert.NotEqual(SimulationRound.StableSeed("sim-1-0", 3), SimulationRound.StableSeed("sim-1-0", 4));
    }

    [Fact]
    public void ThePercentileIsNearestRank()
    {
        double[] values = [5, 1, 4, 2, 3];
        Assert.Equal(3, LoopExperiment.Percentile(values, 50));
        Assert.Equal(5, LoopExperiment.Percentile(values, 99));
        Assert.Equal(1, LoopExperiment.Percentile(values, 1));
        Assert.True(double.IsNaN(LoopExperiment.Percentile([], 50)));
    }
}
