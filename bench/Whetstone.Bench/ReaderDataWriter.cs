using Whetstone.Cookbook.LongMemory;
using Whetstone.Tokenization;

namespace Whetstone.Bench;

/// <summary>--reader-data: writes the model reader's SFT data (<see cref="ReaderTrainingData"/>) as chat
/// JSONL, with the contexts' lengths counted in the given model's tokenizer.</summary>
internal static class ReaderDataWriter
{
    public static void Run(string modelDirectory, string output, int count, int minTokens, int maxTokens, int firstSeed, double? unknownShare = null)
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
        int answers = 0, unknown = 0;
        foreach (var example in ReaderTrainingData.Generate(count, minTokens, maxTokens, firstSeed, Count, Last, unknownShare))
        {
            writer.WriteLine(ReaderTrainingData.ToJsonl(example));
            lengths.Add(example.ContextTokens);
            var replies = example.Messages.Where(m => m.Role == "assistant").ToList();
            answers += replies.Count;
            unknown += replies.Count(m => m.Content == MemoryQuestion.Unknown);
        }
        Console.WriteLine($"{output}: {count} examples, context tokens {lengths.Min()}–{lengths.Max()} (mean {lengths.Average():F0}), seeds from {firstSeed}; " +
            $"labels: {answers} answers ({answers / (double)count:F1} per example), {unknown} \"unknown\" ({unknown / (double)Math.Max(1, answers):P1})" +
            (unknownShare is { } s ? $", rebalanced to {s:P1}" : ", not rebalanced"));
    }
}
