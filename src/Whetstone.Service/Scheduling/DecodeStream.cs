using System.Threading.Channels;
using Whetstone.Engine.Sampling;

namespace Whetstone.Service.Scheduling;

/// <summary>One token of one sample, as the scheduler's tensor thread produced it.</summary>
internal sealed record TokenEvent(int Sample, int Token, float Logprob, IReadOnlyList<TokenLogprob> Top, StopReason? Finished);

/// <summary>The tokens of one request decoding in the scheduler's running batch, handed from the
/// tensor thread to the request's thread as they come. <see cref="Cancellation"/> (the client
/// going away) takes the request's rows out of the batch before the next step.</summary>
internal sealed class DecodeStream(SampleRequest request, CancellationToken cancellation)
{
    readonly Channel<TokenEvent> _events = Channel.CreateUnbounded<TokenEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public SampleRequest Request { get; } = request;
    public CancellationToken Cancellation { get; } = cancellation;
    /// <summary>A whole model of its own (a full fine-tuning checkpoint) to decode with; null: the base model.</summary>
    public Engine.Models.PretrainedModel? OwnModel { get; init; }
    /// <summary>Keeps <see cref="OwnModel"/> loaded; released when the stream ends (all samples
    /// done, cancelled or failed), by then none of its rows will be stepped again.</summary>
    public IDisposable? ModelHold { get; init; }
    public ChannelReader<TokenEvent> Events => _events.Reader;
    /// <summary>When the request joined the batch (its prefill and first tokens done).</summary>
    public DateTimeOffset? JoinedAt { get; private set; }
    int _open = request.NumSamples;

    // Called on the tensor thread only.
    internal void Joined() => JoinedAt = DateTimeOffset.UtcNow;

    internal void Publish(DecodeRow row)
    {
        bool done = row.Finished;
        _events.Writer.TryWrite(new TokenEvent(row.SampleIndex, row.Tokens[^1], row.Logprobs[^1], row.TopLogprobs[^1],
            done ? row.StopReason ?? StopReason.Length : null));
        if (done && --_open == 0) Ended(null);
    }

    internal void Cancelled() => Ended(new OperationCanceledException(Cancellation));

    internal void Failed(Exception error) => Ended(error);

    void Ended(Exception? error)
    {
        _events.Writer.TryComplete(error);
        ModelHold?.Dispose();
    }
}
