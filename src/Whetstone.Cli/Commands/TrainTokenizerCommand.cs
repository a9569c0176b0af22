using System.CommandLine;
using Whetstone.Cookbook.Corpus;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet train tokenizer`: learn byte-level BPE merges on the generated corpus and write
/// a standard tokenizer.json + tokenizer_config.json with the style's chat special tokens.</summary>
internal static class TrainTokenizerCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "Directory for tokenizer.json and tokenizer_config.json", Required = true };
        var style = new Option<string>("--style") { Description = "chatml or llama3", DefaultValueFactory = _ => "chatml" };
        var merges = new Option<int>("--merges") { Description = "Merges to learn (vocabulary = 256 bytes + merges + special tokens)", DefaultValueFactory = _ => 2000 };
        var documents = new Option<int>("--documents") { Description = "Corpus conversations to learn from", DefaultValueFactory = _ => 20000 };
        var seed = new Option<long>("--seed");
        var command = new Command("tokenizer", "Train a byte-level BPE tokenizer on the generated corpus.") { output, style, merges, documents, seed };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var tokenizerStyle = result.GetValue(style) switch
            {
                "chatml" => ByteLevelTokenizerStyle.ChatMl,
                "llama3" => ByteLevelTokenizerStyle.Llama3,
                var other => throw new ArgumentException($"--style '{other}' is not chatml or llama3"),
            };
            var texts = CorpusGenerator.Generate(result.GetValue(seed), heldOut: false).Take(result.GetValue(documents))
                .SelectMany(e => e.Messages.Select(m => m.Content));
            var learned = ByteLevelBpeTrainer.LearnMerges(texts, result.GetValue(merges), tokenizerStyle);
            var written = ByteLevelTokenizerFiles.Write(result.GetValue(output)!, tokenizerStyle, learned);
            Console.WriteLine($"wrote a {written.TokenCount}-token {result.GetValue(style)} tokenizer ({learned.Count} merges) to {Path.GetFullPath(result.GetValue(output)!)}");
            return 0;
        }));
        return command;
    }
}
