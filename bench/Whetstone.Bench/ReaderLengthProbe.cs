using Whetstone.Chat;
using Whetstone.Cookbook.LongMemory;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;

namespace Whetstone.Bench;

/// <summary>--reader-probe: ReaderModelReadingTests' measure at other history lengths (issue #16).
/// A reader candidate answers, greedy and at most 12 tokens as the benchmark asks, the 8 questions
/// of held-out conversations (seeds from 900,300: neither trained on nor used by the benchmark,
/// whose seeds are 1–100) from the whole history of each length. Used to choose a long-context
/// checkpoint without looking at the benchmark's own conversations.</summary>
internal static class ReaderLengthProbe
{
    public static void Run(string modelDirectory, IReadOnlyList<int> historyTokens, int conversations, int firstSeed)
    {
        using var model = PretrainedModel.Load(modelDirectory);
        var renderer = RendererFactory.For(model.Tokenizer);
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var greedy = new SamplingParams { MaxTokens = ModelReader.AnswerTokens, Temperature = 0 };
        int Count(string t) => model.Tokenizer.Encode(t).Count;
        foreach (int length in historyTokens)
        {
            var started = DateTime.UtcNow;
            var tally = new SortedDictionary<QuestionKind, (int Right, int Asked)>();
            var contextTokens = new List<int>();
            for (int seed = firstSeed; seed < firstSeed + conversations; seed++)
            {
                var conversation = LongMemoryGenerator.Generate(seed, length, Count);
                string context = string.Join("\n", conversation.Turns.Select(t => t.User));
                contextTokens.Add(Count(context));
                foreach (var q in conversation.Questions)
                {
                    var prompt = renderer.BuildGenerationPrompt([new ChatMessage("user", ReaderPrompt.First(context, q.Question))]);
                    string answer = ReaderPrompt.Clean(model.Tokenizer.Decode(sampler.Sample(new SampleRequest(prompt, 1, greedy)).Sequences[0].Tokens, skipSpecialTokens: true));
                    bool correct = PatternReader.Correct(q, answer);
                    var (r, a) = tally.GetValueOrDefault(q.Kind);
                    tally[q.Kind] = (r + (correct ? 1 : 0), a + 1);
                    if (!correct) Console.Error.WriteLine($"{length}\t{seed}\t{q.Kind}\t{q.Answer}\t{answer}");
                }
            }
            int right = tally.Values.Sum(v => v.Right), asked = tally.Values.Sum(v => v.Asked);
            int copied = tally.Where(k => k.Key is QuestionKind.SingleHop or QuestionKind.MultiHop or QuestionKind.KnowledgeUpdate).Sum(k => k.Value.Right);
            Console.WriteLine($"history {length} (context tokens {contextTokens.Min()}–{contextTokens.Max()}), seeds {firstSeed}–{firstSeed + conversations - 1}: {right}/{asked} right, {copied} copied; " +
                string.Join(", ", tally.Select(k => $"{k.Key} {k.Value.Right}/{k.Value.Asked}")) + $"; {(DateTime.UtcNow - started).TotalSeconds:F0} s");
        }
    }
}
