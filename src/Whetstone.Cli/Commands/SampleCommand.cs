using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Whetstone.Engine.Sampling;

namespace Whetstone.Cli.Commands;

internal static class SampleCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var prompt = new Option<string>("--prompt", "-p") { Description = "Prompt text", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 32 };
        var temperature = new Option<double>("--temperature", "-t") { Description = "0 = greedy", DefaultValueFactory = _ => 1.0 };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = off)" };
        var topP = new Option<double>("--top-p") { Description = "Nucleus mass (1 = off)", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int?>("--seed") { Description = "Same seed → same tokens" };
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable)", AllowMultipleArgumentsPerToken = false };
        var samples = new Option<int>("--num-samples", "-n") { Description = "Completions of the prompt", DefaultValueFactory = _ => 1 };
        var special = new Option<bool>("--add-special-tokens") { Description = "Let the tokenizer add its BOS etc." };
        var json = new Option<bool>("--json") { Description = "Print tokens, logprobs and stop reasons as JSON" };

        var command = new Command("sample", "Complete a prompt with a KV-cached sampler.");
        model.AddTo(command, withAdapter: true);
        foreach (var option in new Option[] { prompt, maxTokens, temperature, topK, topP, seed, stop, samples, special, json })
            command.Options.Add(option);
        command.SetAction(result => CommandErrors.Run(() =>
        {
            using var loaded = model.Load(result);
            using var adapter = model.LoadAdapter(result, loaded);
            var tokens = loaded.Tokenizer.Encode(result.GetValue(prompt)!, result.GetValue(special));
            if (tokens.Count == 0) throw new SamplingArgumentException("prompt", "encodes to no tokens");
            var parameters = new SamplingParams
            {
                MaxTokens = result.GetValue(maxTokens),
                Temperature = result.GetValue(temperature),
                TopK = result.GetValue(topK),
                TopP = result.GetValue(topP),
                Seed = result.GetValue(seed),
                Stop = result.GetValue(stop) ?? [],
            };
            var sampler = new Sampler(loaded.Network, loaded.Tokenizer);
            var output = sampler.Sample(new SampleRequest(tokens, result.GetValue(samples), parameters) { Adapter = adapter });
            if (result.GetValue(json))
            {
                var array = new JsonArray(output.Sequences.Select(s => (JsonNode)new JsonObject
                {
                    ["text"] = loaded.Tokenizer.Decode(s.Tokens),
                    ["tokens"] = new JsonArray(s.Tokens.Select(t => (JsonNode)t).ToArray()),
                    ["logprobs"] = new JsonArray(s.Logprobs.Select(l => (JsonNode)l).ToArray()),
                    ["stop_reason"] = s.StopReason == StopReason.Stop ? "stop" : "length",
                }).ToArray());
                Console.WriteLine(new JsonObject { ["prompt_tokens"] = tokens.Count, ["samples"] = array }
                    .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                for (int i = 0; i < output.Sequences.Count; i++)
                {
                    var s = output.Sequences[i];
                    if (output.Sequences.Count > 1) Console.WriteLine($"--- sample {i + 1} ({(s.StopReason == StopReason.Stop ? "stop" : "length")}, {s.Tokens.Count} tokens)");
                    Console.WriteLine(loaded.Tokenizer.Decode(s.Tokens));
                }
            }
            return 0;
        }));
        return command;
    }
}
