using System.Text.Json;
using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// The result-to-be of one piece of model work (forward, forward_backward, optim_step, save,
/// load, sample, compute_logprobs). The work was submitted — and accepted by the server — when
/// the call that returned this future completed, so a caller can submit several calls back to
/// back (forward_backward, then optim_step, then the next batch) and await their results later:
/// the server packs queued work into its cycles, so pipelining keeps it busy.
/// </summary>
public sealed class ApiFuture<T>
{
    /// <summary>Long-poll length: the server answers as soon as the work is done, or with
    /// "pending" after this many seconds, whichever comes first.</summary>
    internal const int PollSeconds = 30;

    readonly ITransport _transport;
    readonly Func<JsonElement?, T> _decode;
    // Set once the outcome is final (result or failed work) and replayed to every later caller.
    Task<T>? _outcome;

    internal ApiFuture(ITransport transport, string requestId, Func<JsonElement?, T> decode)
    {
        _transport = transport;
        RequestId = requestId;
        _decode = decode;
    }

    /// <summary>The server's id of the request; the future can be fetched by it.</summary>
    public string RequestId { get; }

    /// <summary>
    /// Waits for the work to finish and returns its result. Polls the server (long-poll) until
    /// the work is done; the first outcome is kept, so later calls answer at once. Throws
    /// <see cref="WhetstoneApiException"/> (with a null status code) when the work failed.
    /// Cancelling stops waiting, not the work.
    /// </summary>
    public async Task<T> ResultAsync(CancellationToken cancellationToken = default)
    {
        var path = $"{Routes.Future(RequestId)}?timeout_seconds={PollSeconds}";
        while (_outcome is null)
        {
            var answer = await _transport.SendAsync<object, FutureResponse>(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
            var outcome = answer.Status switch
            {
                FutureStatus.Pending => null,
                FutureStatus.Done => Task.FromResult(_decode(answer.Result)),
                FutureStatus.Failed => Task.FromException<T>(new WhetstoneApiException(null, answer.Error
                    ?? new ErrorDetail("failed", $"Request {RequestId} failed without an error detail."))),
                _ => throw new InvalidDataException($"Future {RequestId} has unknown status {answer.Status}."),
            };
            if (outcome is not null)
                _ = Interlocked.CompareExchange(ref _outcome, outcome, null);
        }
        return await _outcome.ConfigureAwait(false);
    }

    /// <summary>The usual decoding: the future's result JSON as <typeparamref name="T"/>.</summary>
    internal static T DecodeJson(JsonElement? result) =>
        (result is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } json
            ? json.Deserialize<T>(ProtocolJson.Options)
            : default)
        ?? throw new InvalidDataException($"A finished future carried no {typeof(T).Name} result.");
}
