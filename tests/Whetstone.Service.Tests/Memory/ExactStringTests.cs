using Whetstone.Service.Memory;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.Memory;

/// <summary>The extractive refill keeps names, numbers, dates and keys verbatim (whole words, never
/// token pieces), and the salience prior ranks a span stating a new fact above repeated small talk.</summary>
public class ExactStringTests
{
    static readonly HuggingFaceTokenizer Tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);
    static string Text(int token) => Tokenizer.Decode([token]);
    static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void WordsAreTieredExactContentFiller()
    {
        var words = ExtractiveCompression.Words(Tokenizer.Encode("user: [2025-03-04] My dog is called Rex, key user.city_2 at Oslo."), new float[Tokenizer.Encode("user: [2025-03-04] My dog is called Rex, key user.city_2 at Oslo.").Count], Text)
            .Select(w => (w.Text.Trim(), w.Tier)).ToArray();
        Assert.Equal(
        [
            ("user:", ExtractiveCompression.Tier.Filler), ("[2025-03-04]", ExtractiveCompression.Tier.Exact), ("My", ExtractiveCompression.Tier.Filler),
            ("dog", ExtractiveCompression.Tier.Content), ("is", ExtractiveCompression.Tier.Filler), ("called", ExtractiveCompression.Tier.Content),
            ("Rex,", ExtractiveCompression.Tier.Exact), ("key", ExtractiveCompression.Tier.Content), ("user.city_2", ExtractiveCompression.Tier.Exact),
            ("at", ExtractiveCompression.Tier.Filler), ("Oslo.", ExtractiveCompression.Tier.Exact),
        ], words);
        // The words cover the tokens exactly, in order.
        var encoded = Tokenizer.Encode("user: [2025-03-04] My dog is called Rex, key user.city_2 at Oslo.");
        var all = ExtractiveCompression.Words(encoded, new float[encoded.Count], Text);
        Assert.Equal(Enumerable.Range(0, encoded.Count), all.SelectMany(w => Enumerable.Range(w.Start, w.Length)));
        // A capital that opens a sentence is not a name.
        Assert.Equal(ExtractiveCompression.Tier.Content, ExtractiveCompression.TierOf("Traffic", opensSentence: true));
        Assert.Equal(ExtractiveCompression.Tier.Exact, ExtractiveCompression.TierOf("Traffic", opensSentence: false));
    }

    [Theory, InlineData(0), InlineData(6), InlineData(20)]
    public void ExtractiveCompressionKeepsEveryExactStringVerbatim(int spare)
    {
        const string said = "user: [2025-03-04] Hi, my sister Chiara moved to Tbilisi, her flat number is 4417 and the code is door_key.7.\nassistant: that sounds lovely, enjoy it\n";
        string[] exactStrings = ["[2025-03-04]", "Chiara", "Tbilisi", "4417", "door_key.7"];
        var tokens = Tokenizer.Encode(said);
        // The budget: the exact strings' own tokens (with the space before each) and some spare.
        int k = exactStrings.Sum(e => Tokenizer.Encode(" " + e + ",").Count) + spare;
        Assert.True(tokens.Count > k + 10, $"{tokens.Count} tokens, k = {k}");
        // Values that favour the filler: the exact strings must win by tier, not by value.
        var values = tokens.Select((t, i) => Text(t).Trim() is "the" or "is" or "to" or "and" ? 9f : (float)i / 100).ToArray();
        var span = new MemorySpan("s", 1, T0, tokens) { TokenValues = values };

        var compressed = SpanRefill.Extractive(span, k, Text);
        Assert.InRange(compressed.Tokens.Count, 1, k);
        string kept = Tokenizer.Decode(compressed.Tokens);
        foreach (var exact in exactStrings)
            Assert.Contains(exact, kept);
        // Whole words only: every kept word is a word of the original, in order.
        var original = said.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var keptWords = kept.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        int at = 0;
        foreach (var word in keptWords)
        {
            at = Array.IndexOf(original, word, at);
            Assert.True(at >= 0, $"'{word}' is not a whole word of the span (kept: '{kept}')");
            at++;
        }
    }

    [Fact]
    public void RepeatedSmallTalkHasLowerSalienceThanANewFact()
    {
        MemorySpan Span(string id, string text) => new(id, 1, T0, Tokenizer.Encode(text));
        const string talk = "user: [2025-03-04] The weather was grey again, nothing special happened.\n";
        const string fact = "user: [2025-03-04] My dog is called Rex.\n";
        // The history: the small talk said on 4 turns, the fact on one, another day's talk once.
        var counts = (IReadOnlyList<int>)[];
        foreach (var said in new[] { talk, talk, fact, talk, talk, "user: [2025-03-05] I tidied the kitchen.\n" })
            counts = HistoryWordCounts.Add(counts, SpanSalience.Keys(Tokenizer.Encode(said), Text));
        var salience = SpanSalience.Of([Span("talk", talk), Span("fact", fact)], counts, Text);
        // fact: dog, called (said once: 1 each), Rex (exact, once: 2), the date (exact, said on 5 turns: 2/5), over 4 words.
        Assert.Equal((1 + 1 + 2 + 2.0 / 5) / 4, salience[1], 6);
        // talk: weather, grey, nothing, special, happened (4 turns: 1/4 each) and the date (2/5), over 6 words.
        Assert.Equal((5 * 0.25 + 2.0 / 5) / 6, salience[0], 6);
        // An empty sketch (a memory stored before it existed) counts every word once.
        Assert.Equal((1 + 1 + 2 + 2) / 4.0, SpanSalience.Of([Span("fact", fact)], [], Text)[0], 6);
    }
}
