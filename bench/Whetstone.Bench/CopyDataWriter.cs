using Whetstone.Cookbook.LongMemory;
using Whetstone.Tokenization;

namespace Whetstone.Bench;

/// <summary>--copy-data: writes the model reader's copy curriculum (<see cref="ReaderCopyCurriculum"/>)
/// as chat JSONL, lengths counted in the given model's tokenizer, in the reader data's format, so the
/// two files can be mixed line by line.</summary>
internal static class CopyDataWriter
{
    public static void Run(string modelDirectory, string output, int count, int minTokens, int maxTokens, int firstSeed, int? factChains = null)
    {
        var tokenizer = HuggingFaceTokenizer.Load(modelDirectory);
        int Count(string text) => tokenizer.Encode(text).Count;
        using var writer = new StreamWriter(output);
        var lengths = new List<int>();
        int answers = 0, unknown = 0, updated = 0;
        foreach (var example in ReaderCopyCurriculum.Generate(count, minTokens, maxTokens, firstSeed, Count, factChains))
        {
            writer.WriteLine(ReaderCopyCurriculum.ToJsonl(example));
            lengths.Add(example.ContextTokens);
            answers += example.Questions.Count;
            unknown += example.Questions.Count(q => q.Answer == MemoryQuestion.Unknown);
            updated += example.Questions.Count(q => q.StaleAnswer is not null);
        }
        Console.WriteLine($"{output}: {count} examples, context tokens {lengths.Min()}–{lengths.Max()} (mean {lengths.Average():F0}), seeds from {firstSeed}{(factChains is int k ? $", {k} fact chains" : "")}; " +
            $"labels: {answers}, {unknown} \"unknown\" ({unknown / (double)answers:P1}), {updated} facts updated at least once");
    }
}
