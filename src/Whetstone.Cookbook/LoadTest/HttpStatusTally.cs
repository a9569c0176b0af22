using System.Collections.Concurrent;

namespace Whetstone.Cookbook.LoadTest;

/// <summary>Every HTTP answer the load test's clients got, counted by status below the SDK's and the
/// OpenAI client's own retries: a 429 or 5xx that a retry later hid is still counted here. Attempts
/// that got no answer at all are counted apart (a timeout, a refused or dropped connection), unless
/// the load test itself cut them off at its hard deadline.</summary>
public sealed class HttpStatusTally
{
    readonly ConcurrentDictionary<int, long> _byStatus = new();
    readonly ConcurrentQueue<string> _examples = new();
    long _noAnswer, _cutOff;

    public IReadOnlyDictionary<int, long> ByStatus => new SortedDictionary<int, long>(_byStatus);
    public long NoAnswer => Interlocked.Read(ref _noAnswer);
    public long CutOff => Interlocked.Read(ref _cutOff);
    /// <summary>The first few answers that were neither 2xx nor 429, and failed attempts, as "METHOD path → what".</summary>
    public IReadOnlyList<string> Examples => [.. _examples];

    public long Count(int status) => _byStatus.TryGetValue(status, out var n) ? n : 0;

    /// <summary>Answers other than 2xx and 429, plus attempts without an answer.</summary>
    public long Errors => _byStatus.Where(s => s.Key is < 200 or >= 300 && s.Key != 429).Sum(s => s.Value) + NoAnswer;

    /// <summary>A handler chain for one client's HttpClient: its own connection pool, counted here.
    /// <paramref name="hardStop"/> is the load test's own cut-off, whose cancellations are not failures.</summary>
    public HttpMessageHandler CreateHandler(CancellationToken hardStop) =>
        new Counting(this, hardStop) { InnerHandler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) } };

    void Note(string example)
    {
        if (_examples.Count < 20) _examples.Enqueue(example);
    }

    sealed class Counting(HttpStatusTally tally, CancellationToken hardStop) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                tally._byStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (status is < 200 or >= 300 && status != 429)
                    tally.Note($"{request.Method} {request.RequestUri?.AbsolutePath} → {status}");
                return response;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                if (hardStop.IsCancellationRequested) Interlocked.Increment(ref tally._cutOff);
                else
                {
                    Interlocked.Increment(ref tally._noAnswer);
                    tally.Note($"{request.Method} {request.RequestUri?.AbsolutePath} → no answer: {e.GetType().Name}: {e.Message}");
                }
                throw;
            }
        }
    }
}
