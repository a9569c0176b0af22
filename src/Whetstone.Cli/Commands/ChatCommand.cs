using System.CommandLine;
using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;

namespace Whetstone.Cli.Commands;

/// <summary>`whet chat --model M`: an interactive chat with any model the server answers to (a
/// base model, a sampler checkpoint, a deployment alias like name@latest), streamed token by
/// token. Each line read from stdin is a user turn; an empty line or end of input ends it.</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var server = new ServerConnection();
        var model = new Option<string>("--model", "-m") { Description = "A base model, whet://…/sampler_weights/… or a deployment alias (name@latest, name@vN)", Required = true };
        var system = new Option<string?>("--system") { Description = "A system message before the conversation" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens per answer at most", DefaultValueFactory = _ => 256 };
        var temperature = new Option<double>("--temperature") { DefaultValueFactory = _ => 0.7 };
        var seed = new Option<long?>("--seed") { Description = "Seed of the sampler (reproducible answers)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON line per answer ({content, finish_reason}) instead of streaming text" };
        var command = new Command("chat", "Chat with a model or deployment on a running `whet serve`, streamed (/v1/chat/completions).")
            { model, system, maxTokens, temperature, seed, json };
        server.AddTo(command);
        command.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            var (url, key) = server.Resolve(result);
            bool asJson = result.GetValue(json);
            bool prompt = !asJson && !Console.IsInputRedirected;
            var messages = new List<OpenAiMessage>();
            if (result.GetValue(system) is { } s) messages.Add(Message("system", s));
            using var chat = new ChatStream(url, key);
            try
            {
                while (Read(prompt) is { } line)
                {
                    messages.Add(Message("user", line));
                    var request = new ChatCompletionRequest
                    {
                        Model = result.GetValue(model), Messages = messages, MaxTokens = result.GetValue(maxTokens),
                        Temperature = result.GetValue(temperature), Seed = result.GetValue(seed),
                    };
                    var (content, finish) = await chat.CompleteAsync(request, delta => { if (!asJson) { Console.Write(delta); Console.Out.Flush(); } }, ct);
                    if (asJson) Console.WriteLine(JsonSerializer.Serialize(new ChatAnswer(content, finish), ProtocolJson.Options));
                    else Console.WriteLine();
                    messages.Add(Message("assistant", content));
                }
                return 0;
            }
            catch (HttpRequestException e) { return CommandErrors.Fail(1, $"--url {url}: {e.Message}"); }
        }));
        return command;
    }

    /// <summary>The next user turn; null at an empty line or the end of input.</summary>
    static string? Read(bool prompt)
    {
        if (prompt) Console.Write("> ");
        return Console.In.ReadLine() is { Length: > 0 } line ? line : null;
    }

    /// <summary>What `whet chat --json` prints per answer.</summary>
    internal sealed record ChatAnswer(string Content, string? FinishReason);

    static OpenAiMessage Message(string role, string text) => new() { Role = role, Content = new MessageContent(text, null) };
}
