namespace Whetstone.Client;

/// <summary>
/// Sends the submissions of one training run one after another, in the order the calls were
/// made, even when the caller starts several without awaiting each: the server applies a run's
/// work in the order it accepts it, so call order must be acceptance order.
/// </summary>
internal sealed class SubmissionOrder
{
    readonly Lock _gate = new();
    // Completes when every submission started so far has finished (any outcome); never faults.
    Task _tail = Task.CompletedTask;

    public Task<T> Run<T>(Func<Task<T>> submit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var previous = _tail;
            var submission = RunAfterAsync(previous, submit, cancellationToken);
            // Waiting for `previous` too: a submission cancelled while queued must not let the
            // next one overtake those still ahead of it.
            _tail = Task.WhenAll(previous, submission).ContinueWith(
                static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return submission;
        }
    }

    static async Task<T> RunAfterAsync<T>(Task previous, Func<Task<T>> submit, CancellationToken cancellationToken)
    {
        await previous.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await submit().ConfigureAwait(false);
    }
}
