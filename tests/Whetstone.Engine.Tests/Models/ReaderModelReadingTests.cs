using Whetstone.Chat;
using Whetstone.Cookbook.LongMemory;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;

namespace Whetstone.Engine.Tests.Models;

/// <summary>models/whet-reader-nano reads: on held-out conversations (seeds 900,200…, never trained
/// on nor used by the benchmark) with the whole ~200-token history as the context, its greedy
/// answers (≤ 12 tokens, as the benchmark asks it) are right on at least <see cref="MinimumRight"/>
/// of the <see cref="Conversations"/> × 8 questions, through each decode kernel width and the torch
/// path. The first reader (section 8 of docs/results/memory-diffusion.md) answered "unknown" to
/// everything and scores 1 in 8 here (the abstention questions), so this fails for a reader that
/// does not read. WHET_READER_DIR points it at a candidate checkpoint instead.</summary>
public class ReaderModelReadingTests
{
    const int Conversations = 6;
    // The shipped checkpoint (version 4) gets 46/48 through avx512, avx2, vector128 and torch alike,
    // 29 of the 30 names, jobs, cities and foods copied (version 3: 47/48, 30; the card,
    // models/whet-reader-nano); version 2, which read dates but answered its prior's favourite
    // names, got 20/48 with 5 copied. 40 and 24 leave 6 and 5 of margin and fail for a reader that
    // does not copy from the context.
    const int MinimumRight = 40;
    const int MinimumCopied = 24;
    // At ~1,030 tokens: version 4 gets 43/48 with 29 copied (bf16 and fp32
    // alike); version 3 got 13/48 with 7 copied. 36 and 22 leave 7 of margin.
    const int MinimumRight1k = 36;
    const int MinimumCopied1k = 22;

    static readonly string Directory = Environment.GetEnvironmentVariable("WHET_READER_DIR")
        ?? ShippedModels.Directory("whet-reader-nano");

    public static IEnumerable<object[]> Isas() => DecodeIsas.KernelsAndTorch.Select(isa => new object[] { isa });

    [Theory]
    [MemberData(nameof(Isas))]
    public void GreedyAnswersOnHeldOutWholeHistoriesAreMostlyRight(string isa)
    {
        using var width = DecodeIsas.Use(isa);
        AssertReads(isa, 200, MinimumRight, MinimumCopied);
    }

    /// <summary>The same held-out conversations at ~1,030 tokens (the benchmark's 1k history is this
    /// long), default decode kernel: version 4 was trained on contexts to ~3,600 tokens for this.
    /// Version 3, last trained on ≤ 340-token contexts, gets 13/48 and 7 copied here, so this fails
    /// for a reader whose reading falls off with length.</summary>
    [Fact]
    public void GreedyAnswersOnHeldOut1kHistoriesAreMostlyRight() => AssertReads("default", 1_000, MinimumRight1k, MinimumCopied1k);

    static void AssertReads(string label, int historyTokens, int minimumRight, int minimumCopied)
    {
        using var model = PretrainedModel.Load(Directory);
        var renderer = RendererFactory.For(model.Tokenizer);
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var greedy = new SamplingParams { MaxTokens = 12, Temperature = 0 };
        int Count(string t) => model.Tokenizer.Encode(t).Count;
        int right = 0, asked = 0;
        var tally = new Dictionary<QuestionKind, (int Right, int Asked)>();
        var wrong = new List<string>();
        for (int seed = 900_200; seed < 900_200 + Conversations; seed++)
        {
            var conversation = LongMemoryGenerator.Generate(seed, historyTokens, Count);
            string context = string.Join("\n", conversation.Turns.Select(t => t.User));
            foreach (var q in conversation.Questions)
            {
                var prompt = renderer.BuildGenerationPrompt([new ChatMessage("user", ReaderPrompt.First(context, q.Question))]);
                string answer = ReaderPrompt.Clean(model.Tokenizer.Decode(sampler.Sample(new SampleRequest(prompt, 1, greedy)).Sequences[0].Tokens, skipSpecialTokens: true));
                bool correct = PatternReader.Correct(q, answer);
                var (r, a) = tally.GetValueOrDefault(q.Kind);
                tally[q.Kind] = (r + (correct ? 1 : 0), a + 1);
                right += correct ? 1 : 0;
                asked++;
                if (!correct) wrong.Add($"{seed} {q.Question} → '{answer}' (expected '{q.Answer}')");
            }
        }
        string summary = $"{label}, {historyTokens}-token histories: {right}/{asked} right; " + string.Join(", ", tally.Select(k => $"{k.Key} {k.Value.Right}/{k.Value.Asked}"));
        TestContext.Current.TestOutputHelper?.WriteLine(summary + "\n" + string.Join("\n", wrong));
        Assert.True(right >= minimumRight, $"{summary} (need {minimumRight}); wrong:\n{string.Join("\n", wrong)}");
        // SingleHop, MultiHop and KnowledgeUpdate answers are a name, job, city or food the context states.
        int copied = tally.Where(k => k.Key is QuestionKind.SingleHop or QuestionKind.MultiHop or QuestionKind.KnowledgeUpdate).Sum(k => k.Value.Right);
        Assert.True(copied >= minimumCopied, $"{summary}: {copied} copied values (need {minimumCopied})");
    }
}
