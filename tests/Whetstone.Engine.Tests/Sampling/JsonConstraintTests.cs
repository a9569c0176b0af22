using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Sampling.Json;

namespace Whetstone.Engine.Tests.Sampling;

/// <summary>JSON-constrained decoding: the byte recogniser agrees with System.Text.Json on
/// fuzzed texts, and 200 seeded samples from a random model, with budgets from tight to loose,
/// all decode to JSON objects.</summary>
public class JsonConstraintTests(SamplerFixture fixture) : IClassFixture<SamplerFixture>
{
    static JsonPrefixState? Run(string text, bool objectOnly = false)
    {
        JsonPrefixState? state = JsonPrefixState.Begin(objectOnly);
        foreach (var b in Encoding.UTF8.GetBytes(text)) if ((state = state!.Feed(b)) is null) return null;
        return state;
    }

    static bool ParsesAsJson(string text)
    {
        try { using var _ = JsonDocument.Parse(text); return true; }
        catch (JsonException) { return false; }
    }

    const string StringChars = "ab\"\\\n\té✓ \u0001";
    const string MutationChars = "{}[]\",:0-.eE+tfn \\x";

    static JsonNode RandomValue(Random random, int depth) => random.Next(depth > 3 ? 4 : 6) switch
    {
        0 => JsonValue.Create(random.Next(-1000, 1000))!,
        1 => JsonValue.Create(Math.Round(random.NextDouble() * 1e4 - 5e3, random.Next(5)) * Math.Pow(10, random.Next(-8, 8)))!,
        2 => JsonValue.Create(new string(Enumerable.Range(0, random.Next(6)).Select(_ => StringChars[random.Next(StringChars.Length)]).ToArray()))!,
        3 => random.Next(3) switch { 0 => JsonValue.Create(true)!, 1 => JsonValue.Create(false)!, _ => JsonValue.Create("null")! },
        4 => new JsonArray(Enumerable.Range(0, random.Next(4)).Select(_ => (JsonNode?)RandomValue(random, depth + 1)).ToArray()),
        _ => new JsonObject(Enumerable.Range(0, random.Next(4)).Select(i => KeyValuePair.Create($"k{i}", (JsonNode?)RandomValue(random, depth + 1)))),
    };

    [Fact]
    public void RecogniserAgreesWithSystemTextJsonOnFuzzedTexts()
    {
        var random = new Random(5);
        for (int i = 0; i < 500; i++)
        {
            var text = RandomValue(random, 0).ToJsonString(new JsonSerializerOptions { WriteIndented = random.Next(2) == 0 });
            var state = Run(text);
            Assert.True(state is { IsComplete: true, BytesToClose: 0 }, $"rejected valid JSON: {text}");
            // Every prefix is a live prefix; mutations are accepted as whole JSON exactly when System.Text.Json parses them.
            var bytes = Encoding.UTF8.GetBytes(text);
            for (int cut = 0; cut < bytes.Length; cut++) Assert.NotNull(Run(Encoding.UTF8.GetString(bytes, 0, cut)));
            var mutated = (byte[])bytes.Clone();
            mutated[random.Next(mutated.Length)] = (byte)MutationChars[random.Next(MutationChars.Length)];
            var mutatedText = Encoding.UTF8.GetString(mutated);
            Assert.Equal(ParsesAsJson(mutatedText), Run(mutatedText)?.IsComplete == true);
        }
        Assert.Null(Run("[1,]"));
        Assert.Null(Run("{\"a\" 1}"));
        Assert.Null(Run("01"));
        Assert.Null(Run("[1]", objectOnly: true));
        Assert.Equal(3, Run("{\"a\":[\"x")!.BytesToClose);   // " ] }
        Assert.Equal(4, Run("{\"a")!.BytesToClose);            // " : 0 }
        Assert.True(Run("[true, null, -0.5e+3]")!.IsComplete);
    }

    [Fact]
    public void TwoHundredSeededSamplesAreAllJsonObjects()
    {
        var tokenizer = fixture.Model.Tokenizer;
        var vocabulary = JsonVocabulary.For(tokenizer);
        int complete = 0, stopped = 0;
        for (int seed = 0; seed < 200; seed++)
        {
            int maxTokens = new[] { 4, 8, 16, 32, 64 }[seed % 5];
            var p = new SamplingParams
            {
                MaxTokens = maxTokens, Temperature = 1.0, Seed = seed,
                Constraint = () => new JsonConstraint(vocabulary, tokenizer.EosTokenIds, maxTokens, objectOnly: true),
            };
            var sequence = fixture.Sampler.Sample(new SampleRequest([72, 101, 108, 108, 111], 1, p)).Sequences[0];
            var tokens = sequence.Tokens.Where(t => !tokenizer.EosTokenIds.Contains(t)).ToArray();
            var text = tokenizer.Decode(tokens);
            Assert.True(ParsesAsJson(text), $"seed {seed}, max_tokens {maxTokens}: not JSON: {text}");
            using var document = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
            Assert.True(sequence.Tokens.Count <= maxTokens);
            complete++;
            if (sequence.StopReason == StopReason.Stop) stopped++;
        }
        Assert.Equal(200, complete);
        Assert.True(stopped > 0, "no sample ended with the stop token");
    }
}
