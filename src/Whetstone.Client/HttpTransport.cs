using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// <see cref="ITransport"/> over HTTP: JSON bodies, <c>Authorization: Bearer &lt;api key&gt;</c>,
/// retries as <see cref="RetryPolicy"/> says.
/// </summary>
/// <remarks>
/// Submissions (forward_backward, optim_step, …) are not idempotent, yet are retried like reads.
/// That is safe because the server accepts a request only by answering it: a request whose
/// answer never arrived (dropped connection, timeout) or was 408/429/5xx was not queued, so
/// sending it again cannot apply it twice. This is an assumption about the server, part of the
/// protocol: a server that queued work and then lost the answer would see that work twice.
/// </remarks>
public sealed class HttpTransport : ITransport, IDisposable
{
    readonly HttpClient _http;
    readonly bool _ownsHttpClient;
    readonly string _baseUrl;
    readonly AuthenticationHeaderValue? _authorization;
    readonly RetryPolicy _retry;

    /// <summary>A transport with its own HttpClient, disposed with the transport.</summary>
    public HttpTransport(Uri baseAddress, string apiKey, RetryPolicy? retry = null)
        // The per-attempt timeout of RetryPolicy replaces HttpClient's own (100 s by default).
        : this(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, baseAddress, apiKey, retry, ownsHttpClient: true)
    {
    }

    /// <summary>A transport over the caller's HttpClient (its handler, proxy, and Timeout,
    /// which should exceed the 30 s long-poll of futures); the caller keeps ownership.</summary>
    public HttpTransport(HttpClient httpClient, Uri baseAddress, string apiKey, RetryPolicy? retry = null)
        : this(httpClient, baseAddress, apiKey, retry, ownsHttpClient: false)
    {
    }

    /// <summary>A transport over an HttpClient that already says where and who: its BaseAddress,
    /// and its handler or default headers for authentication (an in-memory server's client, whose
    /// requests are made as one tenant). Disposing the transport disposes the HttpClient.</summary>
    public HttpTransport(HttpClient httpClient, RetryPolicy? retry = null)
        : this(httpClient, httpClient.BaseAddress ?? throw new ArgumentException("The HttpClient needs a BaseAddress.", nameof(httpClient)),
            authorization: null, retry, ownsHttpClient: true)
    {
    }

    HttpTransport(HttpClient httpClient, Uri baseAddress, string apiKey, RetryPolicy? retry, bool ownsHttpClient)
        : this(httpClient, baseAddress, Bearer(apiKey), retry, ownsHttpClient)
    {
    }

    HttpTransport(HttpClient httpClient, Uri baseAddress, AuthenticationHeaderValue? authorization, RetryPolicy? retry, bool ownsHttpClient)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (!baseAddress.IsAbsoluteUri)
            throw new ArgumentException($"The base address must be absolute, got '{baseAddress}'.", nameof(baseAddress));
        _http = httpClient;
        _ownsHttpClient = ownsHttpClient;
        // Routes start with '/'; keeping the base's own path allows a server mounted under a prefix.
        _baseUrl = baseAddress.AbsoluteUri.TrimEnd('/');
        _authorization = authorization;
        _retry = retry ?? RetryPolicy.Default;
        _retry.Validate();
    }

    static AuthenticationHeaderValue Bearer(string apiKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        return new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public async Task<TResponse> SendAsync<TRequest, TResponse>(HttpMethod method, string path, TRequest? body, CancellationToken cancellationToken)
    {
        using var response = await SendWithRetriesAsync(method, path, Serialize(body), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var result = await response.Content.ReadFromJsonAsync<TResponse>(ProtocolJson.Options, cancellationToken).ConfigureAwait(false);
        return result ?? throw new InvalidDataException(
            $"{method} {path} answered {(int)response.StatusCode} without the {typeof(TResponse).Name} it should carry.");
    }

    public async Task SendAsync<TRequest>(HttpMethod method, string path, TRequest? body, CancellationToken cancellationToken)
    {
        using var response = await SendWithRetriesAsync(method, path, Serialize(body), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Stream> DownloadAsync(string path, CancellationToken cancellationToken)
    {
        // Headers only: the body may be gigabytes (merged weights) and is streamed to the caller,
        // whose disposal of the stream releases the response.
        var response = await SendWithRetriesAsync(HttpMethod.Get, path, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_ownsHttpClient)
            _http.Dispose();
    }

    static byte[]? Serialize<TRequest>(TRequest? body) =>
        body is null ? null : JsonSerializer.SerializeToUtf8Bytes(body, ProtocolJson.Options);

    /// <summary>Returns the first successful answer; throws the last failure when attempts run
    /// out, and <see cref="OperationCanceledException"/> as soon as the caller cancels.</summary>
    async Task<HttpResponseMessage> SendWithRetriesAsync(HttpMethod method, string path, byte[]? body, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            using (var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                attemptTimeout.CancelAfter(_retry.AttemptTimeout);
                try
                {
                    using var request = NewRequest(method, path, body);
                    var response = await _http.SendAsync(request, completion, attemptTimeout.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                        return response;
                    using (response)
                    {
                        if (!IsWorthRetrying(response.StatusCode) || attempt >= _retry.MaxAttempts)
                            throw await ErrorOf(response, method, path, cancellationToken).ConfigureAwait(false);
                        retryAfter = RetryAfterOf(response);
                    }
                }
                catch (HttpRequestException) when (attempt < _retry.MaxAttempts && !cancellationToken.IsCancellationRequested)
                {
                    // Connection refused, reset, or closed before the answer: nothing was accepted.
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    // Not the caller's cancellation, so the attempt timed out (ours or HttpClient's).
                    if (attempt >= _retry.MaxAttempts)
                        throw new TimeoutException($"{method} {path}: no answer within {_retry.AttemptTimeout} in any of {attempt} attempts.", e);
                }
            }
            var delay = _retry.DelayBeforeRetry(attempt, retryAfter, Random.Shared.NextDouble());
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    HttpRequestMessage NewRequest(HttpMethod method, string path, byte[]? body)
    {
        if (!path.StartsWith('/'))
            throw new ArgumentException($"A transport path starts with '/', got '{path}'.", nameof(path));
        var request = new HttpRequestMessage(method, _baseUrl + path);
        if (_authorization is not null) request.Headers.Authorization = _authorization;
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            // A fresh content per attempt: an HttpRequestMessage cannot be sent twice.
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        }
        return request;
    }

    static bool IsWorthRetrying(HttpStatusCode status) => status is
        HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or
        HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    static TimeSpan? RetryAfterOf(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow,
        _ => null,
    };

    /// <summary>The protocol's error body when there is one; otherwise (a proxy's HTML page, an
    /// empty body) an error named after the status, with the start of the body to go on.</summary>
    static async Task<WhetstoneApiException> ErrorOf(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (JsonSerializer.Deserialize<ErrorResponse>(text, ProtocolJson.Options) is { Error: { } error })
            {
                // The /v1 (OpenAI-shaped) routes name the field "param".
                if (error.Field is null && JsonDocument.Parse(text).RootElement.GetProperty("error").TryGetProperty("param", out var param)
                    && param.ValueKind == JsonValueKind.String)
                    error = error with { Field = param.GetString() };
                return new WhetstoneApiException(response.StatusCode, error);
            }
        }
        catch (JsonException)
        {
        }
        var excerpt = text.Length > 200 ? text[..200] + "…" : text;
        var message = $"{method} {path} answered {(int)response.StatusCode} {response.ReasonPhrase}: {excerpt}".TrimEnd(' ', ':');
        return new WhetstoneApiException(response.StatusCode, new ErrorDetail($"http_{(int)response.StatusCode}", message));
    }
}
