using System.Runtime.CompilerServices;
using Whetstone.Tokenization;

namespace Whetstone.Engine.Sampling.Json;

/// <summary>Each token's bytes as the decoder emits them (special tokens: none), computed once
/// per tokenizer and shared by every constrained row.</summary>
public sealed class JsonVocabulary
{
    static readonly ConditionalWeakTable<HuggingFaceTokenizer, JsonVocabulary> Cache = [];

    internal byte[][] TokenBytes { get; }

    JsonVocabulary(HuggingFaceTokenizer tokenizer) =>
        TokenBytes = Enumerable.Range(0, tokenizer.VocabSize).Select(id => tokenizer.TokenBytes(id, skipSpecialTokens: true) ?? []).ToArray();

    public static JsonVocabulary For(HuggingFaceTokenizer tokenizer) => Cache.GetValue(tokenizer, t => new JsonVocabulary(t));
}
