namespace Whetstone.Client.Tests;

internal static class TestTransports
{
    public const string ApiKey = "test-key";

    /// <summary>Short waits so retry tests take milliseconds, not the defaults' seconds.</summary>
    public static readonly RetryPolicy FastRetries = new()
    {
        MaxAttempts = 4,
        InitialDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(200),
        AttemptTimeout = TimeSpan.FromSeconds(10),
    };

    public static HttpTransport Http(ScriptedServer server, RetryPolicy? retry = null) =>
        new(server.BaseAddress, ApiKey, retry ?? FastRetries);
}
