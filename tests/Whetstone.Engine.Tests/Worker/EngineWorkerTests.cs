using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using Whetstone.Engine.Worker;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Worker;

public class EngineWorkerTests
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    static string TinyModel()
    {
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, new RandomModelSpec { HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 128, Seed = 31 });
        return directory;
    }

    static SampleRequest Request(int maxTokens, int seed, int samples = 1) =>
        new([5, 6, 7, 8], samples, new SamplingParams { MaxTokens = maxTokens, Temperature = 0.8, Seed = seed, IgnoreEos = true })
        {
            IncludePromptLogprobs = true,
        };

    [Fact]
    public async Task ATrainingSampleDecodesAcrossCyclesAndCompletesWithTheSamplersTokensWhenItsRowsFinish()
    {
        var directory = TinyModel();
        var plans = new ScriptedPlans();
        using var worker = new EngineWorker("tiny", directory, ScalarType.Float32, plans);
        plans.Worker = worker;
        var request = Request(maxTokens: 40, seed: 11, samples: 3);
        var call = new DecodeCall("s1", request) { Owner = "t" };
        plans.Add(new CyclePlan { Joining = [call], Decode = new DecodeBudget { IdleSteps = 8 } });

        var result = (SampleResult)await call.Completion.Task.WaitAsync(Patience);

        // 40 tokens: the join draws the first, then at most 8 steps a cycle: it cannot finish in one cycle.
        Assert.True(plans.Reports.Count >= 5, $"{plans.Reports.Count} cycles");
        Assert.All(plans.Reports, r => Assert.True(r.DecodeSteps <= 8));
        using var model = PretrainedModel.Load(directory);
        var expected = new Sampler(model.Network, model.Tokenizer).Sample(request);
        Assert.Equal(3, result.Sequences.Count);
        for (int s = 0; s < 3; s++) Assert.Equal(expected.Sequences[s].Tokens, result.Sequences[s].Tokens);
        Assert.Equal(expected.PromptLogprobs, result.PromptLogprobs);
        Assert.Equal(4 + 3 * 40, call.Usage.PrefillTokens + call.Usage.SampledTokens);
    }

    [Fact]
    public void DecodeStepsRunBetweenTheChunksOfALearnerPassAndLeaveItsResultAsAlone()
    {
        var directory = TinyModel();
        var lora = new LoraConfig { Rank = 4, Seed = 3 };
        // 48 rows of 100 tokens: 20 fit a 2048-token chunk, so the pass has three chunks.
        var data = Enumerable.Range(0, 48).Select(i => Datum.ForNextToken(Enumerable.Range(0, 101).Select(t => (t * 7 + i) % 90 + 3).ToArray())).ToArray();

        LearnerResult Train(bool withDecoding, out CycleReport report)
        {
            var plans = new ScriptedPlans();
            using var worker = new EngineWorker("tiny", directory, ScalarType.Float32, plans);
            plans.Worker = worker;
            Assert.True(worker.CreateRunAsync("a", new RunSource.NewLora(lora)).Wait(Patience));
            DecodeCall? decode = null;
            if (withDecoding)
            {
                decode = new DecodeCall("d", Request(maxTokens: 120, seed: 2)) { Owner = "rl" };
                plans.Add(new CyclePlan { Joining = [decode], Decode = new DecodeBudget { IdleSteps = 1 } });
            }
            var learner = new LearnerCall("l", "a", data, backward: true) { Loss = LossSpec.Parse("cross_entropy") };
            plans.Add(new CyclePlan
            {
                LearnerPasses = [new LearnerPassPlan(EngineWorker.BaseNetwork, true, [learner])],
                Decode = new DecodeBudget { BatchShare = 0.9, IdleSteps = 1 },
            });
            Assert.True(learner.Completion.Task.Wait(Patience));
            var result = (LearnerResult)learner.Completion.Task.Result;
            Assert.True(decode?.Completion.Task.Wait(Patience) ?? true);
            // The call completes inside the cycle; its report comes when the cycle ends.
            Assert.True(SpinWait.SpinUntil(() => plans.Reports.Any(r => r.Plan.LearnerPasses.Count > 0), Patience));
            report = plans.Reports.First(r => r.Plan.LearnerPasses.Count > 0);
            return result;
        }

        var alone = Train(withDecoding: false, out var aloneReport);
        var interleaved = Train(withDecoding: true, out var report);

        Assert.Equal(0, aloneReport.DecodeStepsBetweenChunks);
        Assert.True(report.DecodeStepsBetweenChunks >= 2, $"{report.DecodeStepsBetweenChunks} decode steps between the 3 chunks");
        Assert.Equal(alone.Loss, interleaved.Loss, 1e-9);
        for (int d = 0; d < data.Length; d++) Assert.Equal(alone.Logprobs[d], interleaved.Logprobs[d]);
    }

    [Fact]
    public async Task ACallOnARunTheWorkerDoesNotHoldFailsAndTheWorkerGoesOn()
    {
        var plans = new ScriptedPlans();
        using var worker = new EngineWorker("tiny", TinyModel(), ScalarType.Float32, plans);
        plans.Worker = worker;
        var orphan = new OptimStepCall("o", "nobody", new AdamParams());
        var sample = new DecodeCall("s", Request(maxTokens: 3, seed: 1)) { Owner = "t" };
        plans.Add(new CyclePlan { OptimSteps = [orphan], Joining = [sample] });
        var error = await Assert.ThrowsAsync<RunNotLoadedException>(() => orphan.Completion.Task.WaitAsync(Patience));
        Assert.Equal("nobody", error.RunId);
        var result = (SampleResult)await sample.Completion.Task.WaitAsync(Patience);
        Assert.Equal(3, Assert.Single(result.Sequences).Tokens.Count);
    }
}
