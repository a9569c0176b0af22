using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Tests.Training;

namespace Whetstone.Engine.Tests.Sampling;

public sealed class DecodeBatchFixture : IDisposable
{
    public PretrainedModel Model { get; }
    public LoraAdapter[] Adapters { get; }

    public DecodeBatchFixture()
    {
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, new RandomModelSpec { HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 128, Seed = 21 });
        Model = PretrainedModel.Load(directory);
        Adapters = Enumerable.Range(0, 3).Select(i => TrainingTestData.RandomAdapter(Model.Network, new LoraConfig { Rank = 4 }, seed: 50 + i)).ToArray();
    }

    public void Dispose()
    {
        foreach (var a in Adapters) a.Dispose();
        Model.Dispose();
    }
}

public class DecodeBatchTests(DecodeBatchFixture fixture) : IClassFixture<DecodeBatchFixture>
{
    readonly PretrainedModel _model = fixture.Model;

    SampleRequest Request(int[] prompt, int seed, LoraAdapter? adapter, int maxTokens = 10, int samples = 1, int top = 0) =>
        new(prompt, samples, new SamplingParams { MaxTokens = maxTokens, Temperature = 0.9, Seed = seed, IgnoreEos = true })
        {
            Adapter = adapter,
            TopLogprobs = top,
        };

    static void RunToEnd(DecodeBatch batch)
    {
        while (batch.Count > 0) batch.Step();
    }

    [Fact]
    public void ARowDecodesTheSameAloneAsWhenItJoinsARunningBatchMidway()
    {
        var target = Request([70, 71, 72, 73, 74], seed: 9, fixture.Adapters[0], samples: 2);
        using var alone = new DecodeBatch(_model.Network, _model.Tokenizer);
        var aloneRows = alone.Join([target]);
        RunToEnd(alone);

        using var running = new DecodeBatch(_model.Network, _model.Tokenizer);
        var others = running.Join([Request([80, 81], seed: 1, fixture.Adapters[1], maxTokens: 20), Request([90, 91, 92, 93, 94, 95, 96, 97, 98], seed: 2, null, maxTokens: 14)]);
        for (int i = 0; i < 4; i++) running.Step();
        var joinedRows = running.Join([target]);
        Assert.Equal(2 + 2, running.Count);
        RunToEnd(running);

        for (int s = 0; s < 2; s++)
        {
            Assert.Equal(10, joinedRows[s].Tokens.Count);
            Assert.Equal(aloneRows[s].Tokens, joinedRows[s].Tokens);
            // Same tokens; logprobs to float rounding (a matmul over 4 rows may round differently
            // from one over 2).
            for (int i = 0; i < 10; i++) Assert.Equal(aloneRows[s].Logprobs[i], joinedRows[s].Logprobs[i], 1e-5);
        }
        Assert.NotEqual(joinedRows[0].Tokens, joinedRows[1].Tokens);   // the two samples draw their own streams
        Assert.All(others, r => Assert.Equal(r.Request.Params.MaxTokens, r.Tokens.Count));
    }

    [Fact]
    public void RowsGiveTheSamplersTokensAndTheLearnersLogprobs()
    {
        var sampler = new Sampler(_model.Network, _model.Tokenizer);
        var requests = new[]
        {
            Request([65, 66, 67], seed: 4, fixture.Adapters[2], samples: 3),
            Request([65, 66, 67, 68, 69, 70, 71], seed: 5, null),
        };
        using var batch = new DecodeBatch(_model.Network, _model.Tokenizer);
        var rows = batch.Join(requests);
        RunToEnd(batch);
        int index = 0;
        foreach (var request in requests)
        {
            var expected = sampler.Sample(request);
            foreach (var sequence in expected.Sequences)
            {
                var row = rows[index++];
                Assert.Equal(sequence.Tokens, row.Tokens);
                var learner = sampler.ComputeLogprobs(request.Prompt.Concat(row.Tokens).ToArray(), request.Adapter);
                for (int i = 0; i < row.Tokens.Count; i++)
                    Assert.Equal(learner[request.Prompt.Count + i]!.Value, row.Logprobs[i], 1e-4);
            }
        }
    }

    [Fact]
    public void CancelledRowLeavesAndTheOthersAreUnchanged()
    {
        var keep = Request([40, 41, 42], seed: 3, fixture.Adapters[0], maxTokens: 12);
        var drop = Request([50, 51], seed: 8, fixture.Adapters[1], maxTokens: 12);
        using var reference = new DecodeBatch(_model.Network, _model.Tokenizer);
        var expected = reference.Join([keep])[0];
        RunToEnd(reference);

        using var batch = new DecodeBatch(_model.Network, _model.Tokenizer);
        var rows = batch.Join([keep, drop]);
        batch.Step();
        batch.Step();
        DecodeBatch.Cancel(rows[1]);
        batch.Step();
        Assert.Equal(1, batch.Count);
        Assert.Equal(3, rows[1].Tokens.Count);   // first token at the join, then two steps
        Assert.True(rows[1].Finished);
        RunToEnd(batch);
        Assert.Equal(expected.Tokens, rows[0].Tokens);
        Assert.Equal(0, batch.CacheEntries);   // an empty batch holds no cache
    }

    [Fact]
    public void TopLogprobsAreTheMostLikelyTokensInOrder()
    {
        var greedy = new SampleRequest([30, 31, 32], 1, new SamplingParams { MaxTokens = 6, Temperature = 0, IgnoreEos = true }) { TopLogprobs = 5 };
        using var batch = new DecodeBatch(_model.Network, _model.Tokenizer);
        var row = batch.Join([greedy, Request([33, 34], seed: 1, null)])[0];
        RunToEnd(batch);
        Assert.Equal(6, row.TopLogprobs.Count);
        for (int i = 0; i < row.Tokens.Count; i++)
        {
            var top = row.TopLogprobs[i];
            Assert.Equal(5, top.Count);
            Assert.Equal(row.Tokens[i], top[0].Token);              // greedy picks the most likely
            Assert.Equal(row.Logprobs[i], top[0].Logprob, 1e-6);
            for (int j = 1; j < top.Count; j++) Assert.True(top[j - 1].Logprob >= top[j].Logprob);
            Assert.True(top.Sum(t => Math.Exp(t.Logprob)) <= 1 + 1e-5);
        }
    }

    [Fact]
    public void InBf16RowsOfManyAdaptersMatchTheSamplerAsRowsLeave()
    {
        // bf16 takes the stacked path (one batched product over all adapters), whose stacked
        // factors the decode batch keeps across steps: rows leaving at different lengths must
        // restack them, and every token must still be the sampler's.
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, new RandomModelSpec { HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 128, Seed = 22 });
        using var model = PretrainedModel.Load(directory, TorchSharp.torch.ScalarType.BFloat16);
        var adapters = Enumerable.Range(0, 3).Select(i => TrainingTestData.RandomAdapter(model.Network, new LoraConfig { Rank = 4 }, seed: 60 + i)).ToArray();
        var requests = adapters.Select((a, i) => Request([60 + i, 61, 62], seed: i, a, maxTokens: 4 + 3 * i)).ToArray();
        var expected = new Sampler(model.Network, model.Tokenizer).SampleBatch(requests);
        using var batch = new DecodeBatch(model.Network, model.Tokenizer);
        var rows = batch.Join(requests);
        RunToEnd(batch);
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(4 + 3 * i, rows[i].Tokens.Count);
            Assert.Equal(expected[i].Sequences[0].Tokens, rows[i].Tokens);
            Assert.Equal(expected[i].Sequences[0].Logprobs, rows[i].Logprobs);
        }
        foreach (var a in adapters) a.Dispose();
    }
}
