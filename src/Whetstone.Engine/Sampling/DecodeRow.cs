namespace Whetstone.Engine.Sampling;

/// <summary>One sample of one request in a <see cref="DecodeBatch"/>: what it has produced so far.
/// Read it on the thread that steps the batch, after <see cref="DecodeBatch.Join"/> or
/// <see cref="DecodeBatch.Step"/> reported it.</summary>
public sealed class DecodeRow
{
    internal SequenceState State { get; }
    readonly List<IReadOnlyList<TokenLogprob>> _top = [];

    internal DecodeRow(SampleRequest request, int sampleIndex, SequenceState state, object? owner)
    {
        Request = request;
        SampleIndex = sampleIndex;
        State = state;
        Owner = owner;
    }

    public SampleRequest Request { get; }
    public int SampleIndex { get; }
    /// <summary>Whatever the caller attached when joining (the service's stream of this request).</summary>
    public object? Owner { get; }
    public IReadOnlyList<int> Tokens => State.Tokens;
    public IReadOnlyList<float> Logprobs => State.Logprobs;
    /// <summary>Per sampled token, the <see cref="SampleRequest.TopLogprobs"/> most likely tokens
    /// (empty lists when none were asked for).</summary>
    public IReadOnlyList<IReadOnlyList<TokenLogprob>> TopLogprobs => _top;
    public StopReason? StopReason => State.StopReason;
    /// <summary>Left the batch: stopped, reached its length, or was cancelled.</summary>
    public bool Finished => State.Finished || Cancelled;
    public bool Cancelled { get; internal set; }
    /// <summary>The request's prompt logprobs (shared by its samples), when it asked for them.</summary>
    public IReadOnlyList<float?>? PromptLogprobs { get; internal init; }
    public IReadOnlyList<IReadOnlyList<TokenLogprob>?>? TopkPromptLogprobs { get; internal init; }

    /// <summary>The finished sample as the training API returns it.</summary>
    public SampledSequence ToSequence() => new(Tokens.ToArray(), Logprobs.ToArray(), StopReason ?? Sampling.StopReason.Length)
    {
        Routing = Routing?.Result(),
    };

    /// <summary>The experts of every token run so far, when the request asked for them.</summary>
    internal RoutingTrace? Routing { get; init; }

    /// <summary>One request's result from its rows (in sample order).</summary>
    public static SampleResult Result(IReadOnlyList<DecodeRow> rows) => new(rows.Select(r => r.ToSequence()).ToArray())
    {
        PromptLogprobs = rows[0].PromptLogprobs,
        TopkPromptLogprobs = rows[0].TopkPromptLogprobs,
    };

    internal void AddTop(IReadOnlyList<TokenLogprob> top) => _top.Add(top);
}
