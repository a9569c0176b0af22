using System.CommandLine;
using System.Net.Http;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cli.Commands;

/// <summary>What the `whet run|checkpoint|deployment` subcommands share: --url and the API key
/// (<see cref="ServerConnection"/>), --json, and the API's refusals turned into exit codes.</summary>
internal sealed class ServerCommand
{
    static readonly JsonSerializerOptions Indented = new(ProtocolJson.Options) { WriteIndented = true };

    readonly ServerConnection _server = new();
    readonly Option<bool> _json = new("--json") { Description = "Print JSON (the API's fields, snake_case) on stdout and nothing else" };

    public Command Command { get; }

    public ServerCommand(string name, string description)
    {
        Command = new Command(name, description);
        _server.AddTo(Command);
        Command.Options.Add(_json);
    }

    public ServerCommand Add(Symbol symbol)
    {
        switch (symbol)
        {
            case Option option: Command.Options.Add(option); break;
            case Argument argument: Command.Arguments.Add(argument); break;
            default: throw new ArgumentException($"not an option or argument: {symbol.Name}");
        }
        return this;
    }

    /// <summary>Runs <paramref name="action"/> with a connected client. A refusal of the server
    /// (4xx: a bad key, an unknown id, a bad value) exits 2 with the API's code, message and
    /// field; an unreachable server or a server error exits 1.</summary>
    public Command SetAction(Func<ParseResult, ServiceClient, Output, CancellationToken, Task> action)
    {
        Command.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            var output = new Output(result.GetValue(_json));
            try
            {
                using var client = _server.Connect(result);
                await action(result, client, output, ct);
                return 0;
            }
            catch (WhetstoneApiException e) when (e.StatusCode is { } status && (int)status is >= 400 and < 500)
            {
                return CommandErrors.Fail(CommandErrors.BadArguments, e.Message);
            }
            catch (WhetstoneApiException e) { return CommandErrors.Fail(1, e.Message); }
            catch (HttpRequestException e) { return CommandErrors.Fail(1, $"--url {result.GetValue(_server.Url)}: {e.Message}"); }
        }));
        return Command;
    }

    /// <summary>Where a command's answer goes: JSON alone with --json, plain lines otherwise.</summary>
    internal sealed class Output(bool json)
    {
        public bool Json => json;

        /// <summary>Prints <paramref name="value"/> as JSON with --json, else <paramref name="text"/>'s lines.</summary>
        public void Write<T>(T value, Func<T, IEnumerable<string>> text)
        {
            if (json) Console.WriteLine(JsonSerializer.Serialize(value, Indented));
            else foreach (var line in text(value)) Console.WriteLine(line);
        }
    }

    public static string When(DateTimeOffset? time) => time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'") : "-";
}
