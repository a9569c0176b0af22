using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Whetstone.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var json = new Option<bool>("--json") { Description = "Print as JSON" };
        var command = new Command("info", "Describe a model: family, shape, parameters, tokenizer.");
        model.AddTo(command);
        command.Options.Add(json);
        command.SetAction(result => CommandErrors.Run(() =>
        {
            using var loaded = model.Load(result);
            var c = loaded.Config;
            long parameters = loaded.Network.parameters().Sum(p => p.numel());
            var info = new JsonObject
            {
                ["directory"] = Path.GetFullPath(loaded.Directory),
                ["architecture"] = c.Family.ToString(),
                ["parameters"] = parameters,
                ["compute_dtype"] = loaded.Network.Dtype.ToString(),
                ["vocab_size"] = c.VocabSize,
                ["tokenizer_tokens"] = loaded.Tokenizer.VocabSize,
                ["hidden_size"] = c.HiddenSize,
                ["intermediate_size"] = c.IntermediateSize,
                ["layers"] = c.NumHiddenLayers,
                ["attention_heads"] = c.NumAttentionHeads,
                ["key_value_heads"] = c.NumKeyValueHeads,
                ["head_dim"] = c.HeadDim,
                ["max_position_embeddings"] = c.MaxPositionEmbeddings,
                ["rope_theta"] = c.RopeTheta,
                ["rope_scaling"] = c.RopeScaling.Type,
                ["tie_word_embeddings"] = c.TieWordEmbeddings,
                ["bos_token_id"] = loaded.Tokenizer.BosTokenId,
                ["eos_token_ids"] = new JsonArray(loaded.Tokenizer.EosTokenIds.Select(i => (JsonNode)i).ToArray()),
            };
            if (result.GetValue(json))
            {
                Console.WriteLine(info.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                foreach (var (key, value) in info)
                    Console.WriteLine($"{key,-24} {value?.ToJsonString().Trim('"')}");
            }
            return 0;
        }));
        return command;
    }
}
