using System.CommandLine;
using System.Text.Json.Nodes;
using Whetstone.Engine.Sampling;

namespace Whetstone.Cli.Commands;

internal static class LogprobsCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var text = new Option<string?>("--text") { Description = "Text to score" };
        var tokens = new Option<string?>("--tokens") { Description = "Token ids to score, comma-separated (e.g. 1,2,3)" };
        var json = new Option<bool>("--json") { Description = "Print {\"tokens\": [...], \"logprobs\": [null, ...]}" };
        var command = new Command("logprobs", "Per-token log p(token | prefix) of a sequence (the first token has none).");
        model.AddTo(command, withAdapter: true);
        command.Options.Add(text);
        command.Options.Add(tokens);
        command.Options.Add(json);
        command.SetAction(result => CommandErrors.Run(() =>
        {
            string? textValue = result.GetValue(text), tokensValue = result.GetValue(tokens);
            if ((textValue is null) == (tokensValue is null))
                return CommandErrors.Fail(CommandErrors.BadArguments, "give exactly one of --text or --tokens");
            var ids = tokensValue is not null ? ParseIds(tokensValue) : null;
            using var loaded = model.Load(result);
            using var adapter = model.LoadAdapter(result, loaded);
            ids ??= loaded.Tokenizer.Encode(textValue!).ToArray();
            var logprobs = new Sampler(loaded.Network, loaded.Tokenizer).ComputeLogprobs(ids, adapter);
            if (result.GetValue(json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["tokens"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()),
                    ["logprobs"] = new JsonArray(logprobs.Select(l => l is float f ? JsonValue.Create(f) : null).ToArray<JsonNode?>()),
                }.ToJsonString());
            }
            else
            {
                for (int i = 0; i < ids.Length; i++)
                    Console.WriteLine($"{ids[i],8}  {(logprobs[i] is float f ? f.ToString("F4") : "-"),10}  {loaded.Tokenizer.Decode([ids[i]])}");
            }
            return 0;
        }));
        return command;
    }

    static int[] ParseIds(string value)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out ids[i]))
                throw new SamplingArgumentException("tokens", $"[{i}] = '{parts[i]}' is not an integer token id");
        return ids;
    }
}
