using Whetstone.Engine.Worker;
using Whetstone.Service.Scheduling;
using static Whetstone.Service.Tests.Scheduling.PlannerCalls;

namespace Whetstone.Service.Tests.Scheduling;

public class DecodeAdmissionTests
{
    static DecodeLoad Rows(int rows) => new(new Dictionary<string, int> { ["running"] = rows }, 0);

    [Fact]
    public void LiveCallsJoinBeforeBatchCallsWhenRowsAreScarce()
    {
        var admission = new DecodeAdmission(new SchedulingOptions { MaxDecodeRows = 3 });
        var rollout = Decode("rl", samples: 2);
        var chat1 = Decode("alice", priority: DecodePriority.Live);
        var chat2 = Decode("bob", priority: DecodePriority.Live);
        var waiting = new List<DecodeCall> { rollout, chat1, chat2 };

        var admitted = admission.Admit(waiting, DecodeLoad.Empty);

        Assert.Equal([chat1, chat2], admitted);   // the rollout's two rows no longer fit
        Assert.Equal([rollout], waiting);
    }

    [Fact]
    public void WithoutLiveFirstArrivalOrderAndTokensDecide()
    {
        var admission = new DecodeAdmission(new SchedulingOptions { MaxDecodeRows = 3, LiveFirst = false });
        var rollout = Decode("rl", samples: 2);
        var chat1 = Decode("alice", priority: DecodePriority.Live);
        var chat2 = Decode("bob", priority: DecodePriority.Live);
        var admitted = admission.Admit([rollout, chat1, chat2], DecodeLoad.Empty);
        Assert.Equal([rollout, chat1], admitted);
    }

    [Fact]
    public void OwnersTakeTurnsByTokensNotByCalls()
    {
        // Quantum 100 tokens a round. "big" asks 4 × 300 tokens, "small" 4 × 50 (4 prompt + 46):
        // per round small gets two calls' worth, big one call every third round.
        var admission = new DecodeAdmission(new SchedulingOptions { QuantumTokens = 100, MaxDecodeRows = 6 });
        var big = Enumerable.Range(0, 4).Select(_ => Decode("big", prompt: 4, maxTokens: 296)).ToList();
        var small = Enumerable.Range(0, 4).Select(_ => Decode("small", prompt: 4, maxTokens: 46)).ToList();
        var waiting = big.Concat(small).ToList();

        var admitted = admission.Admit(waiting, DecodeLoad.Empty);

        // Round 1: big 100 (< 300), small 100 → two small. Round 2: big 200, small → two more.
        // Round 3: big 300 → one big. Then small is empty; big alone: rounds 4-6 → one more big at 300.
        // Six rows: 4 small + 2 big.
        Assert.Equal([small[0], small[1], small[2], small[3], big[0], big[1]], admitted);
        Assert.Equal([big[2], big[3]], waiting);
        Assert.Equal(0, admission.DeficitOf("small"));       // nothing waiting: its deficit resets
    }

    [Fact]
    public void ADeficitCarriesOverToTheNextCycleWhileTheOwnerWaits()
    {
        var admission = new DecodeAdmission(new SchedulingOptions { QuantumTokens = 100, MaxDecodeRows = 1 });
        var first = Decode("a", prompt: 10, maxTokens: 140);     // costs 150
        var second = Decode("a", prompt: 10, maxTokens: 140);
        var waiting = new List<DecodeCall> { first, second };

        Assert.Equal([first], admission.Admit(waiting, DecodeLoad.Empty));
        // Two rounds gave 200, the first call took 150; the second waits (the row limit) with 50 left over.
        Assert.Equal(50, admission.DeficitOf("a"));
        Assert.Empty(admission.Admit(waiting, Rows(1)));
        Assert.Equal([second], admission.Admit(waiting, DecodeLoad.Empty));
        Assert.Empty(waiting);
    }

    [Fact]
    public void ThePrefillBudgetLimitsACyclesJoinsButOneCallAlwaysJoins()
    {
        var admission = new DecodeAdmission(new SchedulingOptions { MaxPrefillTokensPerCycle = 100, QuantumTokens = 10_000 });
        var huge = Decode("a", prompt: 500);
        var next = Decode("b", prompt: 20);
        var waiting = new List<DecodeCall> { huge, next };
        Assert.Equal([huge], admission.Admit(waiting, DecodeLoad.Empty));
        Assert.Equal([next], admission.Admit(waiting, DecodeLoad.Empty));
    }

    [Fact]
    public void ACallWithMoreSamplesThanTheRowLimitDecodesAloneOnceTheBatchIsEmpty()
    {
        var admission = new DecodeAdmission(new SchedulingOptions { MaxDecodeRows = 8, QuantumTokens = 100_000 });
        var wide = Decode("a", samples: 16);
        var waiting = new List<DecodeCall> { wide };
        Assert.Empty(admission.Admit(waiting, Rows(1)));
        Assert.Equal([wide], admission.Admit(waiting, DecodeLoad.Empty));
    }
}
