using System.Threading.Channels;
using Whetstone.Engine.Sampling;

namespace Whetstone.Engine.Worker;

/// <summary>One token of one sample, as the worker's decode loop produced it.</summary>
public sealed record TokenEvent(int Sample, int Token, float Logprob, IReadOnlyList<TokenLogprob> Top, StopReason? Finished);

/// <summary>The tokens of one decode call, handed from the worker's thread to the request's
/// thread as they come. Ends when every sample finished, or with the cancellation or error.</summary>
public sealed class DecodeStream
{
    readonly Channel<TokenEvent> _events = Channel.CreateUnbounded<TokenEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public ChannelReader<TokenEvent> Events => _events.Reader;
    /// <summary>When the call joined the decode batch (its prefill and first tokens done).</summary>
    public DateTimeOffset? JoinedAt { get; private set; }

    // Called on the worker's thread only.
    internal void Joined() => JoinedAt = DateTimeOffset.UtcNow;

    internal void Publish(DecodeRow row) => _events.Writer.TryWrite(new TokenEvent(row.SampleIndex, row.Tokens[^1], row.Logprobs[^1],
        row.TopLogprobs[^1], row.Finished ? row.StopReason ?? StopReason.Length : null));

    internal void End(Exception? error) => _events.Writer.TryComplete(error);
}
