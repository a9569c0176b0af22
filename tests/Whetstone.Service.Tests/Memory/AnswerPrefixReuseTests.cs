using System.Collections.Concurrent;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Worker;
using Whetstone.Protocol;
using Whetstone.Service.Scheduling;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Memory;

/// <summary>KV reuse for a memory's answer prompt: each served turn's answer decode keeps its
/// prompt's KV under the memory's key + "/answer", and the next turn, whose prompt starts with the
/// same memory text while the memory's front is unchanged, prefills only from where the two prompts
/// differ, and answers exactly as a plain prefill of the same prompt does.</summary>
public class AnswerPrefixReuseTests
{
    static int SharedPrefix(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int i = 0;
        while (i < a.Count && i < b.Count && a[i] == b[i]) i++;
        return i;
    }

    [Fact]
    public async Task TheNextTurnsAnswerPrefillsOnlyWhatFollowsTheUnchangedMemoryAndAnswersAsAPlainPrefill()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var host = server.Core.Context.Host(TestServers.ModelName);
        var answers = new ConcurrentQueue<DecodeCall>();
        var previous = host.Worker.Completed;
        host.Worker.Completed = call =>
        {
            previous?.Invoke(call);
            if (call is DecodeCall { PrefixKey: { } key } decode && key.EndsWith("/answer", StringComparison.Ordinal)) answers.Enqueue(decode);
        };
        var chat = await MemoryChat.ForAsync(server, "alice");
        string? id = null;
        // A budget far above four short turns: nothing is compressed, each turn's memory starts with the last one's text.
        for (int turn = 1; turn <= 4; turn++) (id, _) = await chat.TurnAsync(id, MemoryChat.SmallTalk(turn), budget: 200);

        var calls = answers.ToArray();
        Assert.Equal(4, calls.Length);
        Assert.All(calls, c => Assert.Equal($"memory/alice/{id}/answer", c.PrefixKey));
        for (int turn = 2; turn <= 4; turn++)
        {
            var (before, now) = (calls[turn - 2].Request.Prompt, calls[turn - 1].Request.Prompt);
            int expected = Math.Min(SharedPrefix(before, now), now.Count - 1);
            Assert.Equal(expected, calls[turn - 1].Usage.ReusedPrefixTokens);
            Assert.Equal(now.Count - expected, calls[turn - 1].Usage.PrefillTokens);
            // From turn 3 on the memory's leading text is the same: the last prompt up to its new user message comes from the kept KV.
            if (turn >= 3)
                Assert.True(calls[turn - 1].Usage.ReusedPrefixTokens > before.Count / 2 && calls[turn - 1].Usage.PrefillTokens < now.Count,
                    $"turn {turn} reused {calls[turn - 1].Usage.ReusedPrefixTokens} and prefilled {calls[turn - 1].Usage.PrefillTokens} of {now.Count} answer tokens; the last prompt had {before.Count}");
        }

        // Each served answer equals a plain decode (no key) of the same prompt through the same worker.
        foreach (var served in calls)
        {
            var plain = new DecodeCall(RequestFutures.NewRequestId(), served.Request) { Owner = "alice" };
            host.Planner.Enqueue(plain);
            var expected = ((SampleResult)await plain.Completion.Task.WaitAsync(TimeSpan.FromSeconds(60))).Sequences[0];
            var actual = ((SampleResult)await served.Completion.Task).Sequences[0];
            Assert.Equal(expected.Tokens, actual.Tokens);
            for (int i = 0; i < expected.Logprobs.Count; i++)
                Assert.True(Math.Abs(expected.Logprobs[i] - actual.Logprobs[i]) <= 1e-4, $"token {i}: plain {expected.Logprobs[i]}, reused {actual.Logprobs[i]}");
            Assert.Equal(served.Request.Prompt.Count, plain.Usage.PrefillTokens);
        }

        // DELETE drops the answer's kept KV with the memory's other entries.
        Assert.True(await host.Worker.CountPrefixesAsync($"memory/alice/{id}/answer") == 1);
        var response = await chat.Http.DeleteAsync(Routes.Memory(id!));
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(0, await host.Worker.CountPrefixesAsync($"memory/alice/{id}"));
    }
}
