using Whetstone.Protocol;
using Whetstone.Service.Loops;

namespace Whetstone.Service.Tests.Loops;

/// <summary>The held-out reward part of the gate, on numbers: the settings' docs say that with
/// MinImprovement 0 a candidate not worse by more than Tolerance passes; the gate used to refuse
/// every candidate scoring below the deployed version, whatever the tolerance.</summary>
public sealed class LoopGateVerdictTests
{
    [Theory]
    [InlineData(0.50, 0.55, 0.10, 0.00, true)]    // worse, within the tolerance: passes
    [InlineData(0.44, 0.55, 0.10, 0.00, false)]   // worse by more than the tolerance
    [InlineData(0.55, 0.55, 0.00, 0.00, true)]    // equal, no tolerance
    [InlineData(0.54, 0.55, 0.00, 0.00, false)]   // below, no tolerance
    [InlineData(0.58, 0.55, 0.10, 0.05, false)]   // better, but not by the minimum improvement
    [InlineData(0.61, 0.55, 0.10, 0.05, true)]    // better by more than the minimum improvement
    public void HeldOutRewardIsJudgedAsTheSettingsSay(double candidate, double deployed, double tolerance, double minImprovement, bool expected)
    {
        var gate = new LoopGateSettings { Tolerance = tolerance, MinImprovement = minImprovement };
        var (passed, reason) = LoopGate.HeldOutVerdict(candidate, deployed, gate);
        Assert.Equal(expected, passed);
        Assert.Contains($"{candidate:F3}", reason);
    }
}
