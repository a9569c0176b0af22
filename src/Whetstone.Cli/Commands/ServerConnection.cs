using System.CommandLine;
using Whetstone.Client;

namespace Whetstone.Cli.Commands;

/// <summary>The options of commands that talk to a running `whet serve`: --url, and the API key
/// from --api-key or WHET_API_KEY.</summary>
internal sealed class ServerConnection
{
    public Option<string> Url { get; } = new("--url") { Description = "The server", DefaultValueFactory = _ => "http://127.0.0.1:8000" };
    public Option<string?> ApiKey { get; } = new("--api-key") { Description = "API key (default: $WHET_API_KEY)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(ApiKey);
    }

    public (Uri Url, string Key) Resolve(ParseResult result)
    {
        string key = result.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("WHET_API_KEY")
            ?? throw new ArgumentException("--api-key or WHET_API_KEY is required");
        if (!Uri.TryCreate(result.GetValue(Url), UriKind.Absolute, out var url)) throw new ArgumentException($"--url '{result.GetValue(Url)}' is not an absolute URL");
        return (url, key);
    }

    public ServiceClient Connect(ParseResult result)
    {
        var (url, key) = Resolve(result);
        return ServiceClient.Connect(url, key);
    }
}
