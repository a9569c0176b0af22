using Whetstone.Cookbook.LongMemory;
using Whetstone.Tokenization;

namespace Whetstone.Bench;

/// <summary>--reader-data: writes the model reader's SFT data (<see cref="ReaderTrainingData"/>) as chat
/// JSONL, with the contexts' lengths counted in the given model's tokenizer.</summary>
internal static class ReaderDataWriter
{
    public static void Run(string modelDirectory, string output, int count, int minTokens, int maxTokens, int firstSeed)
    {
        var tokenizer = HuggingFaceTokenizer.Load(modelDirectory);
        int Count(string text) => tokenizer.Encode(text).Count;
        string Last(string text, int n)
        {
            var tokens = tokenizer.Encode(text);
            return tokens.Count <= n ? text : tokenizer.Decode(tokens.Skip(tokens.Count - n));
        }
        using var writer = new StreamWriter(output);
        var lengths = new List<int>();
        foreach (var example in ReaderTrainingData.Generate(count, minTokens, maxTokens, firstSeed, Count, Last))
        {
            writer.WriteLine(ReaderTrainingData.ToJsonl(example));
            lengths.Add(example.ContextTokens);
        }
        Console.WriteLine($"{output}: {count} examples, context tokens {lengths.Min()}–{lengths.Max()} (mean {lengths.Average():F0}), seeds {firstSeed}–{firstSeed + count - 1}");
    }
}
