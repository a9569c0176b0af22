using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Worker;

namespace Whetstone.Engine.Tests.Sampling;

/// <summary>A decode call's prefill reusing a kept prompt's KV (<see cref="DecodeCall.PrefixKey"/>)
/// must decode exactly what a plain prefill of the same prompt decodes, while running the model
/// only on what follows the shared prefix.</summary>
public class DecodePrefixReuseTests(DecodeBatchFixture fixture) : IClassFixture<DecodeBatchFixture>
{
    const float Tolerance = 1e-4f;   // fp32: the two paths differ only in how the prompt's matmuls are split
    readonly PretrainedModel _model = fixture.Model;

    static int[] Tokens(int count, int seed) => Enumerable.Range(0, count).Select(i => (i * 37 + seed * 11) % 90 + 5).ToArray();

    static SampleRequest Greedy(int[] prompt, int maxTokens = 12) =>
        new(prompt, 1, new SamplingParams { MaxTokens = maxTokens, Temperature = 0, Seed = 3, IgnoreEos = true });

    static void RunToEnd(DecodeBatch batch)
    {
        while (batch.Count > 0) batch.Step();
    }

    DecodeRow Plain(SampleRequest request)
    {
        using var batch = new DecodeBatch(_model.Network, _model.Tokenizer);
        var row = batch.Join([request])[0];
        RunToEnd(batch);
        return row;
    }

    (DecodeRow Row, int Reused) WithPrefix(SampleRequest request, PrefixKvStore store, string key, bool keep)
    {
        using var batch = new DecodeBatch(_model.Network, _model.Tokenizer);
        var (rows, reused) = batch.JoinAfterPrefix(request, null, store, key, keep);
        RunToEnd(batch);
        return (rows[0], reused);
    }

    static void AssertSameDecode(DecodeRow expected, DecodeRow actual)
    {
        Assert.Equal(12, actual.Tokens.Count);
        Assert.Equal(expected.Tokens, actual.Tokens);
        for (int i = 0; i < expected.Logprobs.Count; i++)
            Assert.True(Math.Abs(expected.Logprobs[i] - actual.Logprobs[i]) <= Tolerance, $"token {i}: plain prefill {expected.Logprobs[i]}, with reuse {actual.Logprobs[i]}");
    }

    [Fact]
    public void APromptSharingAKeptPromptDecodesLikeAPlainPrefillAndPrefillsOnlyItsNewTokens()
    {
        using var store = new PrefixKvStore(1L << 30);
        var first = Tokens(40, 1);
        var (kept, reused0) = WithPrefix(Greedy(first), store, "m/answer", keep: true);
        Assert.Equal(0, reused0);
        AssertSameDecode(Plain(Greedy(first)), kept);
        // Only the prompt is kept, not the sampled tokens, in a cache sized to the prompt.
        var entry = store.Get("m/answer")!;
        Assert.Equal(first, entry.Tokens);
        Assert.Equal(40, entry.Cache.Capacity);
        Assert.Null(entry.Logprobs);

        // Shares 30 tokens, then goes its own way: 30 reused, 15 prefilled.
        int[] second = [.. first.Take(30), .. Tokens(15, 2)];
        Assert.NotEqual(first[30], second[30]);
        var (diverged, reused1) = WithPrefix(Greedy(second), store, "m/answer", keep: false);
        Assert.Equal(30, reused1);
        AssertSameDecode(Plain(Greedy(second)), diverged);

        // Not kept: the first prompt is still there; a prompt extending it by 8 reuses all 40.
        int[] third = [.. first, .. Tokens(8, 3)];
        var (extended, reused2) = WithPrefix(Greedy(third), store, "m/answer", keep: true);
        Assert.Equal(40, reused2);
        AssertSameDecode(Plain(Greedy(third)), extended);
        Assert.Equal(third, store.Get("m/answer")!.Tokens);

        // The same prompt again: all but its last token reused (its logits give the first sampled token).
        var (again, reused3) = WithPrefix(Greedy(third), store, "m/answer", keep: false);
        Assert.Equal(third.Length - 1, reused3);
        AssertSameDecode(extended, again);
    }

    [Fact]
    public void APromptThatDivergesAtTheFirstTokenPrefillsEverything()
    {
        using var store = new PrefixKvStore(1L << 30);
        var first = Tokens(24, 4);
        WithPrefix(Greedy(first), store, "a", keep: true);
        int[] changed = [first[0] + 1, .. first.Skip(1)];
        var (row, reused) = WithPrefix(Greedy(changed), store, "a", keep: false);
        Assert.Equal(0, reused);
        AssertSameDecode(Plain(Greedy(changed)), row);
        Assert.Equal(0, WithPrefix(Greedy(first), store, "b", keep: false).Reused);   // another key holds nothing
    }

    [Fact]
    public async Task TheDecodeLoopCountsPrefilledTokensAndAnAdapterOrACrowdedPrefillIgnoresTheKey()
    {
        using var store = new PrefixKvStore(1L << 30);
        using var loop = new DecodeLoop(_model.Network, _model.Tokenizer, (call, result) => call.Completion.TrySetResult(result()), store);
        var first = Tokens(36, 5);
        int[] second = [.. first, .. Tokens(10, 6)];
        DecodeCall Call(int[] prompt) => new("r", Greedy(prompt)) { PrefixKey = "m/answer", KeepPrefix = true };
        void Run(params (DecodeCall Call, SampleRequest Request)[] calls)
        {
            loop.Join(calls);
            for (int step = 0; step < 100 && !loop.IsEmpty; step++) loop.Step();
            Assert.True(loop.IsEmpty, "the calls did not finish in 100 steps");
        }

        var one = Call(first);
        Run((one, one.Request));
        Assert.Equal((36, 0), (one.Usage.PrefillTokens, one.Usage.ReusedPrefixTokens));
        var two = Call(second);
        Run((two, two.Request));
        Assert.Equal((10, 36), (two.Usage.PrefillTokens, two.Usage.ReusedPrefixTokens));
        Assert.Equal(Plain(Greedy(second)).Tokens, ((SampleResult)await two.Completion.Task).Sequences[0].Tokens);

        // With an adapter the kept base-model KV is wrong for the prompt: a plain prefill, nothing kept.
        var adapted = Call(second);
        Run((adapted, adapted.Request with { Adapter = fixture.Adapters[0] }));
        Assert.Equal((46, 0), (adapted.Usage.PrefillTokens, adapted.Usage.ReusedPrefixTokens));
        // Two calls prefilling together: the plain batched prefill for both.
        var (a, b) = (Call(second), Call(second));
        Run((a, a.Request), (b, b.Request));
        Assert.Equal((46, 0), (a.Usage.PrefillTokens, a.Usage.ReusedPrefixTokens));
        Assert.Equal(second, store.Get("m/answer")!.Tokens);
        Assert.Equal(1, store.Count);
    }
}
