using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using Whetstone.Engine.Worker;

namespace Whetstone.Service.Tests.Scheduling;

/// <summary>Plain calls for planner tests: no model, no tensors.</summary>
static class PlannerCalls
{
    static int _next;
    static string Id(string kind) => $"{kind}_{Interlocked.Increment(ref _next)}";

    public static LearnerCall ForwardBackward(string run, int tokens = 5, bool backward = true) =>
        new(Id("fb"), run, [Datum.ForNextToken(Enumerable.Range(1, tokens + 1).ToArray())], backward) { Loss = LossSpec.Parse("cross_entropy") };

    public static OptimStepCall Optim(string run) => new(Id("optim"), run, new AdamParams());

    public static RunOperationCall Save(string run) => new(Id("save"), run, new RunOperation.SaveState("/nowhere"));

    public static DecodeCall Decode(string owner, int prompt = 4, int samples = 1, int maxTokens = 16, DecodePriority priority = DecodePriority.Batch) =>
        new(Id("decode"), new SampleRequest(Enumerable.Range(1, prompt).ToArray(), samples, new SamplingParams { MaxTokens = maxTokens }))
        {
            Owner = owner, Priority = priority,
        };
}
