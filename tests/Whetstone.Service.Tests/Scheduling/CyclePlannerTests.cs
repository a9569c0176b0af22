using System.Net;
using Whetstone.Engine.Worker;
using Whetstone.Service.Scheduling;
using static Whetstone.Service.Tests.Scheduling.PlannerCalls;

namespace Whetstone.Service.Tests.Scheduling;

public class CyclePlannerTests
{
    static CyclePlanner Planner(int capacity = 100, SchedulingOptions? options = null) => new("tiny", capacity, options ?? new SchedulingOptions());

    static CycleReport Ran(CyclePlan plan) => new(plan, DateTimeOffset.UtcNow, 1.0, 0.8, 0.2, 3, 12);

    [Fact]
    public void TwoRunsForwardBackwardCallsShareOneLearnerPass()
    {
        var planner = Planner();
        planner.Register("a", ownNetwork: false);
        planner.Register("b", ownNetwork: false);
        var fbA = ForwardBackward("a");
        var fbB = ForwardBackward("b", tokens: 7);
        var optimA = Optim("a");
        var optimB = Optim("b");
        foreach (var call in new WorkerCall[] { fbA, optimA, fbB, optimB }) planner.Enqueue(call);

        var plan = planner.Next(DecodeLoad.Empty);

        var pass = Assert.Single(plan.LearnerPasses);
        Assert.Equal(EngineWorker.BaseNetwork, pass.Network);
        Assert.True(pass.Backward);
        Assert.Equal([fbA, fbB], pass.Calls);
        Assert.Equal(2, pass.Runs);
        Assert.Equal([optimA, optimB], plan.OptimSteps);

        planner.Finished(Ran(plan));
        var metrics = Assert.Single(planner.RecentCycles);
        Assert.Equal([2], metrics.RunsPerLearnerPass);
        Assert.Equal(2, metrics.Runs);
        Assert.Equal(2, metrics.LearnerCalls);
        Assert.Equal(5 + 7, metrics.TrainedTokens);
        Assert.Equal(2, metrics.OptimSteps);
        Assert.Equal(0, planner.QueueDepth);
    }

    [Fact]
    public void AFullFineTuningRunHasAPassOfItsOwnAndForwardPassesComeFirst()
    {
        var planner = Planner();
        planner.Register("lora1", ownNetwork: false);
        planner.Register("lora2", ownNetwork: false);
        planner.Register("full", ownNetwork: true);
        var forward = ForwardBackward("lora2", backward: false);
        planner.Enqueue(ForwardBackward("lora1"));
        planner.Enqueue(forward);
        planner.Enqueue(ForwardBackward("full"));

        var plan = planner.Next(DecodeLoad.Empty);

        Assert.Equal(3, plan.LearnerPasses.Count);
        Assert.Equal((EngineWorker.BaseNetwork, false), (plan.LearnerPasses[0].Network, plan.LearnerPasses[0].Backward));
        Assert.Same(forward, Assert.Single(plan.LearnerPasses[0].Calls));
        Assert.Equal(["lora1"], plan.LearnerPasses.Single(p => p.Backward && p.Network == EngineWorker.BaseNetwork).Calls.Select(c => c.RunId));
        Assert.Equal(["full"], plan.LearnerPasses.Single(p => p.Network == "full").Calls.Select(c => c.RunId));
    }

    [Fact]
    public void OneRunsCallsKeepTheirOrderAcrossCycles()
    {
        var planner = Planner();
        planner.Register("a", ownNetwork: false);
        var saveFirst = Save("a");
        var fb1 = ForwardBackward("a");
        var fb2 = ForwardBackward("a");
        var optim1 = Optim("a");
        var fb3 = ForwardBackward("a");
        var optim2 = Optim("a");
        var saveLast = Save("a");
        foreach (var call in new WorkerCall[] { saveFirst, fb1, fb2, optim1, fb3, optim2, saveLast }) planner.Enqueue(call);

        // A cycle takes a run's calls up to its next optimizer step and the operations after it.
        var first = planner.Next(DecodeLoad.Empty);
        Assert.Equal([saveFirst], first.Before);
        Assert.Equal([fb1, fb2], Assert.Single(first.LearnerPasses).Calls);
        Assert.Equal([optim1], first.OptimSteps);
        Assert.Empty(first.After);
        planner.Finished(Ran(first));
        Assert.Equal(3, planner.QueueDepth);

        var second = planner.Next(DecodeLoad.Empty);
        Assert.Empty(second.Before);
        Assert.Equal([fb3], Assert.Single(second.LearnerPasses).Calls);
        Assert.Equal([optim2], second.OptimSteps);
        Assert.Equal([saveLast], second.After);
        planner.Finished(Ran(second));
        Assert.Equal(0, planner.QueueDepth);
        Assert.True(planner.Next(DecodeLoad.Empty).IsEmpty);
    }

    [Fact]
    public void AFullQueueRefusesWith429AndQueuesNothing()
    {
        var planner = Planner(capacity: 2);
        planner.Register("a", ownNetwork: false);
        planner.Enqueue(ForwardBackward("a"));
        planner.Enqueue(Decode("t"));
        var error = Assert.Throws<ApiError>(() => planner.Enqueue(Optim("a")));
        Assert.Equal(HttpStatusCode.TooManyRequests, error.Status);
        Assert.Equal(2, planner.QueueDepth);
        var plan = planner.Next(DecodeLoad.Empty);
        Assert.Empty(plan.OptimSteps);
        Assert.Equal(2, plan.CallCount);
    }

    [Fact]
    public void DecodeCallsWaitWhileTheRowsAreFullAndJoinBetweenStepsOnceTheyFit()
    {
        var planner = Planner(options: new SchedulingOptions { MaxDecodeRows = 4 });
        int wakes = 0;
        planner.WorkArrived = () => wakes++;
        var decode = Decode("t", samples: 2);
        planner.Enqueue(decode);
        Assert.Equal(1, wakes);
        Assert.False(planner.HasWaitingWork);             // decode calls join between steps; they need no new cycle

        var full = new DecodeLoad(new Dictionary<string, int> { ["other"] = 3 }, 0);
        var plan = planner.Next(full);
        Assert.Empty(plan.Joining);                       // 3 + 2 rows would pass the limit of 4
        Assert.Empty(planner.TakeJoining(full));
        planner.Finished(Ran(plan));
        Assert.Equal(2, wakes);                           // still pending: the worker looks again
        Assert.Equal(1, planner.QueueDepth);

        Assert.Same(decode, Assert.Single(planner.TakeJoining(new DecodeLoad(new Dictionary<string, int> { ["other"] = 2 }, 0))));
        Assert.Equal(0, planner.QueueDepth);
        var next = planner.Next(DecodeLoad.Empty);
        planner.Finished(Ran(next));
        Assert.Equal(1, planner.RecentCycles[^1].SampleCalls);   // counted in the cycle it joined in
    }

    [Fact]
    public void LiveTrafficMakesLearnerChunksSmaller()
    {
        var planner = Planner(options: new SchedulingOptions { LiveLearnerTokensPerChunk = 512 });
        Assert.Null(planner.Next(DecodeLoad.Empty).Decode.LearnerTokensPerChunk);
        Assert.Null(planner.Next(new DecodeLoad(new Dictionary<string, int> { ["rl"] = 8 }, LiveRows: 0)).Decode.LearnerTokensPerChunk);
        Assert.Equal(512, planner.Next(new DecodeLoad(new Dictionary<string, int> { ["alice"] = 1 }, LiveRows: 1)).Decode.LearnerTokensPerChunk);
        planner.Enqueue(Decode("bob", priority: DecodePriority.Live));
        Assert.Equal(512, planner.Next(new DecodeLoad(new Dictionary<string, int> { ["x"] = 256 }, 0)).Decode.LearnerTokensPerChunk);
    }

    [Fact]
    public void TheBudgetCarriesTheConfiguredShares()
    {
        var planner = Planner(options: new SchedulingOptions { LiveDecodeShare = 0.6, BatchDecodeShare = 0.2, IdleDecodeSteps = 5 });
        var budget = planner.Next(DecodeLoad.Empty).Decode;
        Assert.Equal((0.6, 0.2, 5), (budget.LiveShare, budget.BatchShare, budget.IdleSteps));
    }
}
