using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Sampling;

public sealed class SamplerFixture : IDisposable
{
    public PretrainedModel Model { get; }
    public Sampler Sampler { get; }

    public SamplerFixture()
    {
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, new RandomModelSpec
        {
            Family = ModelFamily.Qwen3, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            HeadDim = 16, IntermediateSize = 64, MaxPositionEmbeddings = 128, Seed = 11,
        });
        Model = PretrainedModel.Load(directory);
        Sampler = new Sampler(Model.Network, Model.Tokenizer);
    }

    public void Dispose() => Model.Dispose();
}

public class SamplerTests(SamplerFixture fixture) : IClassFixture<SamplerFixture>
{
    readonly Sampler _sampler = fixture.Sampler;
    readonly PretrainedModel _model = fixture.Model;
    static readonly int[] Prompt = [72, 101, 108, 108, 111, 44, 32, 119];

    SampledSequence One(SamplingParams p, int[]? prompt = null) =>
        _sampler.Sample(new SampleRequest(prompt ?? Prompt, 1, p)).Sequences[0];

    [Fact]
    public void SameSeedGivesSameTokensAndOtherSeedsDiffer()
    {
        var p = new SamplingParams { MaxTokens = 24, Temperature = 1.0, Seed = 1234, IgnoreEos = true };
        var a = One(p);
        var b = One(p);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Logprobs, b.Logprobs);
        var others = Enumerable.Range(0, 4).Select(s => One(p with { Seed = 99 + s }).Tokens).ToList();
        Assert.Contains(others, t => !t.SequenceEqual(a.Tokens));
    }

    [Fact]
    public void GreedyDecodingIsDeterministicAndFollowsTheArgmaxOfAFullForward()
    {
        var p = new SamplingParams { MaxTokens = 12, Temperature = 0, IgnoreEos = true };
        var a = One(p);
        Assert.Equal(a.Tokens, One(p with { Seed = 5 }).Tokens);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var sequence = Prompt.Concat(a.Tokens).Select(t => (long)t).ToArray();
        var logits = _model.Network.Logits(_model.Network.Forward(tensor(sequence).unsqueeze(0)))[0];
        var argmax = logits.argmax(-1).data<long>().ToArray();
        for (int i = 0; i < a.Tokens.Count; i++) Assert.Equal(argmax[Prompt.Length - 1 + i], a.Tokens[i]);
    }

    [Theory]
    [InlineData(0.0, 0, 1.0)]
    [InlineData(0.7, 0, 1.0)]
    [InlineData(1.3, 20, 0.9)]
    public void SamplerLogprobsEqualTheLearnersLogprobs(double temperature, int topK, double topP)
    {
        var result = _sampler.Sample(new SampleRequest(Prompt, 3,
            new SamplingParams { MaxTokens = 16, Temperature = temperature, TopK = topK, TopP = topP, Seed = 7, IgnoreEos = true }));
        foreach (var sequence in result.Sequences)
        {
            var learner = _sampler.ComputeLogprobs(Prompt.Concat(sequence.Tokens).ToArray());
            for (int i = 0; i < sequence.Tokens.Count; i++)
                Assert.Equal(learner[Prompt.Length + i]!.Value, sequence.Logprobs[i], 1e-4);
        }
    }

    [Fact]
    public void StopTokenIdEndsTheSequenceWithStopReasonAndKeepsTheToken()
    {
        var free = One(new SamplingParams { MaxTokens = 20, Temperature = 1, Seed = 3, IgnoreEos = true });
        int stopToken = free.Tokens[5];
        int expectedLength = free.Tokens.ToList().IndexOf(stopToken) + 1;
        var stopped = One(new SamplingParams { MaxTokens = 20, Temperature = 1, Seed = 3, IgnoreEos = true, StopTokenIds = [stopToken] });
        Assert.Equal(StopReason.Stop, stopped.StopReason);
        Assert.Equal(free.Tokens.Take(expectedLength), stopped.Tokens);
    }

    [Fact]
    public void StopStringEndsTheSequenceWhereTheTextFirstContainsIt()
    {
        var p = new SamplingParams { MaxTokens = 40, Temperature = 1, Seed = 21, IgnoreEos = true };
        var free = One(p);
        // The generated tokenizer has no merges, so an ASCII letter is exactly one byte token.
        int index = free.Tokens.ToList().FindIndex(t => _model.Tokenizer.Decode([t]) is [var c] && char.IsAsciiLetterOrDigit(c));
        Assert.True(index >= 0, "the sample holds no ASCII letter to stop on");
        string stop = _model.Tokenizer.Decode([free.Tokens[index]]);
        var stopped = One(p with { Stop = [stop] });
        Assert.Equal(StopReason.Stop, stopped.StopReason);
        Assert.Equal(free.Tokens.Take(index + 1), stopped.Tokens);
        Assert.EndsWith(stop, _model.Tokenizer.Decode(stopped.Tokens));
    }

    [Fact]
    public void MaxTokensEndsWithLengthReason()
    {
        var s = One(new SamplingParams { MaxTokens = 7, Temperature = 1, Seed = 2, IgnoreEos = true });
        Assert.Equal(7, s.Tokens.Count);
        Assert.Equal(StopReason.Length, s.StopReason);
    }

    [Fact]
    public void EndOfSequenceTokenStopsUnlessIgnored()
    {
        int eos = _model.Tokenizer.EosTokenIds[0];
        SequenceState Fed(bool ignoreEos)
        {
            var p = new SamplingParams { MaxTokens = 10, IgnoreEos = ignoreEos };
            var state = new SequenceState(0, 3, p, 1, _model.Tokenizer.CreateStreamingDecoder(), ignoreEos ? [] : _model.Tokenizer.EosTokenIds);
            state.Append(65, -1f);
            state.Append(eos, -2f);
            return state;
        }
        Assert.Equal(StopReason.Stop, Fed(ignoreEos: false).StopReason);
        Assert.False(Fed(ignoreEos: true).Finished);
        Assert.Equal(5, Fed(ignoreEos: true).NextPosition);
    }

    [Fact]
    public void BatchedRequestsGiveTheSameTokensAsEachAlone()
    {
        var p = new SamplingParams { MaxTokens = 10, Temperature = 0.8, Seed = 17, IgnoreEos = true };
        int[] other = [10, 20, 30];
        var together = _sampler.SampleBatch([new SampleRequest(Prompt, 2, p), new SampleRequest(other, 1, p)]);
        var alonePrompt = _sampler.Sample(new SampleRequest(Prompt, 2, p));
        var aloneOther = _sampler.Sample(new SampleRequest(other, 1, p));
        for (int i = 0; i < 2; i++) Assert.Equal(alonePrompt.Sequences[i].Tokens, together[0].Sequences[i].Tokens);
        Assert.Equal(aloneOther.Sequences[0].Tokens, together[1].Sequences[0].Tokens);
        for (int i = 0; i < 10; i++) Assert.Equal(aloneOther.Sequences[0].Logprobs[i], together[1].Sequences[0].Logprobs[i], 1e-4);
    }

    [Fact]
    public void PromptLogprobsEqualComputeLogprobsAndTopkIsSorted()
    {
        var result = _sampler.Sample(new SampleRequest(Prompt, 1, new SamplingParams { MaxTokens = 1 })
        { IncludePromptLogprobs = true, TopkPromptLogprobs = 5 });
        var expected = _sampler.ComputeLogprobs(Prompt);
        Assert.Null(result.PromptLogprobs![0]);
        Assert.Null(result.TopkPromptLogprobs![0]);
        for (int t = 1; t < Prompt.Length; t++)
        {
            Assert.Equal(expected[t]!.Value, result.PromptLogprobs[t]!.Value, 1e-4);
            var top = result.TopkPromptLogprobs[t]!;
            Assert.Equal(5, top.Count);
            Assert.True(top.Zip(top.Skip(1)).All(pair => pair.First.Logprob >= pair.Second.Logprob));
            Assert.True(top[0].Logprob >= result.PromptLogprobs[t]!.Value - 1e-5);
        }
    }

    [Fact]
    public void BadRequestsNameTheField()
    {
        int vocab = _model.Config.VocabSize;
        Assert.Equal("prompt", Assert.Throws<SamplingArgumentException>(() => One(new SamplingParams(), [1, vocab])).Field);
        Assert.Equal("max_tokens", Assert.Throws<SamplingArgumentException>(() => One(new SamplingParams { MaxTokens = 500 })).Field);
        Assert.Equal("top_p", Assert.Throws<SamplingArgumentException>(() => One(new SamplingParams { TopP = 0 })).Field);
        Assert.Equal("temperature", Assert.Throws<SamplingArgumentException>(() => One(new SamplingParams { Temperature = -1 })).Field);
        Assert.Equal("prompt", Assert.Throws<SamplingArgumentException>(() => One(new SamplingParams(), [])).Field);
    }
}
