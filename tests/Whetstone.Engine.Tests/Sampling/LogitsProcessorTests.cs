using Whetstone.Engine.Sampling;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Sampling;

/// <summary>logit_bias and the presence/frequency penalties: exact arithmetic on logits, and
/// greedy decoding (alone and as rows of one batch with different settings) equal to a decode
/// recomputed here with full forward passes and the OpenAI formula applied by hand.</summary>
public class LogitsProcessorTests(SamplerFixture fixture) : IClassFixture<SamplerFixture>
{
    static readonly int[] Prompt = [72, 101, 108, 108, 111, 44, 32, 119];

    [Fact]
    public void PenaltiesSubtractCountTimesFrequencyPlusPresenceFromGeneratedTokensOnly()
    {
        var processor = new RepetitionPenaltyProcessor(presence: 0.5, frequency: 0.25);
        foreach (var t in new[] { 5, 5, 7, 5 }) processor.Accept(t);
        var logits = new float[10];
        Array.Fill(logits, 1f);
        processor.Apply(logits);
        Assert.Equal(1f - (3 * 0.25f + 0.5f), logits[5]);
        Assert.Equal(1f - (1 * 0.25f + 0.5f), logits[7]);
        Assert.All(logits.Where((_, i) => i is not (5 or 7)), l => Assert.Equal(1f, l));
    }

    [Fact]
    public void LogitBiasAddsItsAmountEveryStep()
    {
        var processor = new LogitBiasProcessor(new Dictionary<int, float> { [2] = -100, [3] = 1.5f });
        var logits = new float[] { 0, 1, 2, 3 };
        processor.Apply(logits);
        processor.Accept(3);
        processor.Apply(logits);
        Assert.Equal([0f, 1f, 2f - 200, 3f + 3], logits);
    }

    /// <summary>Greedy decoding recomputed independently: a full forward over the whole sequence
    /// each step, then logit[j] += bias[j] − count[j]·frequency − (count[j] &gt; 0)·presence.</summary>
    (int[] Tokens, float[] Logprobs) Reference(SamplingParams p)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var sequence = Prompt.ToList();
        var counts = new Dictionary<int, int>();
        var tokens = new List<int>();
        var logprobs = new List<float>();
        for (int step = 0; step < p.MaxTokens; step++)
        {
            var input = tensor(sequence.Select(t => (long)t).ToArray()).unsqueeze(0);
            var raw = fixture.Model.Network.Logits(fixture.Model.Network.Forward(input))[0, -1].data<float>().ToArray();
            var adjusted = raw.Select((l, j) => (double)l + p.LogitBias.GetValueOrDefault(j)
                - counts.GetValueOrDefault(j) * p.FrequencyPenalty - (counts.ContainsKey(j) ? p.PresencePenalty : 0)).ToArray();
            int next = Array.IndexOf(adjusted, adjusted.Max());
            double max = raw.Max();
            double logSum = max + Math.Log(raw.Sum(l => Math.Exp(l - max)));
            tokens.Add(next);
            logprobs.Add((float)(raw[next] - logSum));
            counts[next] = counts.GetValueOrDefault(next) + 1;
            sequence.Add(next);
        }
        return (tokens.ToArray(), logprobs.ToArray());
    }

    static readonly SamplingParams Greedy = new() { MaxTokens = 10, Temperature = 0, IgnoreEos = true };

    [Fact]
    public void RowsWithDifferentSettingsInOneBatchEachMatchTheirReference()
    {
        var plain = fixture.Sampler.Sample(new SampleRequest(Prompt, 1, Greedy)).Sequences[0];
        int favourite = plain.Tokens.GroupBy(t => t).OrderByDescending(g => g.Count()).First().Key;
        var settings = new[]
        {
            Greedy,
            Greedy with { LogitBias = new Dictionary<int, float> { [favourite] = -100 } },
            Greedy with { LogitBias = new Dictionary<int, float> { [3] = 100 } },
            Greedy with { FrequencyPenalty = 2 },
            Greedy with { PresencePenalty = 2, FrequencyPenalty = -0.5 },
        };
        var results = fixture.Sampler.SampleBatch(settings.Select(p => new SampleRequest(Prompt, 1, p)).ToArray());
        for (int i = 0; i < settings.Length; i++)
        {
            var (tokens, logprobs) = Reference(settings[i]);
            Assert.Equal(tokens, results[i].Sequences[0].Tokens);
            for (int t = 0; t < tokens.Length; t++) Assert.Equal(logprobs[t], results[i].Sequences[0].Logprobs[t], 1e-4f);
        }
        Assert.Equal(plain.Tokens, results[0].Sequences[0].Tokens);
        Assert.DoesNotContain(favourite, results[1].Sequences[0].Tokens);
        Assert.All(results[2].Sequences[0].Tokens, t => Assert.Equal(3, t));
        // The penalty changes what greedy picks once a token repeats.
        Assert.NotEqual(plain.Tokens, results[3].Sequences[0].Tokens);
        Assert.True(results[3].Sequences[0].Tokens.Distinct().Count() > plain.Tokens.Distinct().Count());
    }

    [Theory]
    [InlineData("logit_bias")]
    [InlineData("presence_penalty")]
    [InlineData("frequency_penalty")]
    public void OutOfRangeValuesAreRefusedByField(string field)
    {
        var p = field switch
        {
            "logit_bias" => Greedy with { LogitBias = new Dictionary<int, float> { [1] = 101 } },
            "presence_penalty" => Greedy with { PresencePenalty = 2.5 },
            _ => Greedy with { FrequencyPenalty = -3 },
        };
        var error = Assert.Throws<SamplingArgumentException>(() => fixture.Sampler.Validate(new SampleRequest(Prompt, 1, p)));
        Assert.Equal(field, error.Field);
        var outside = Assert.Throws<SamplingArgumentException>(() => fixture.Sampler.Validate(new SampleRequest(Prompt, 1,
            Greedy with { LogitBias = new Dictionary<int, float> { [fixture.Model.Config.VocabSize] = 1 } })));
        Assert.Equal("logit_bias", outside.Field);
    }
}
