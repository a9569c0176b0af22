namespace Whetstone.Engine.Sampling.Json;

/// <summary>Grammar-constrained decoding of one row into JSON: each step, every token whose
/// bytes would take the text off every JSON text is masked to −infinity, and so is every token
/// after which the text could no longer be closed within the row's remaining token budget (so a
/// row that reaches max_tokens still ends on whole JSON). Stop tokens are allowed only once the
/// text is complete, and then only they are. Masks with llama.cpp-style per-token checks of the
/// token's bytes against a byte-level recogniser: <see cref="JsonPrefixState"/> for any JSON,
/// <see cref="SchemaPrefixState"/> for the texts a JSON schema allows.</summary>
public sealed class JsonConstraint : ILogitsProcessor
{
    readonly JsonVocabulary _vocabulary;
    readonly HashSet<int> _stopTokens;
    readonly int _maxTokens;
    IJsonGrammarState _state;
    int _accepted;

    /// <param name="objectOnly">The top-level value must be an object (response_format json_object).</param>
    public JsonConstraint(JsonVocabulary vocabulary, IEnumerable<int> stopTokens, int maxTokens, bool objectOnly)
        : this(vocabulary, stopTokens, maxTokens, JsonPrefixState.Begin(objectOnly)) { }

    /// <summary>The output must be an instance of <paramref name="schema"/> (response_format json_schema, a forced tool call).
    /// The text closes a token early so that a stop token always fits and the row ends as "stop", not "length":
    /// it needs <see cref="JsonSchemaNode.MinBytes"/> + 1 tokens (<see cref="TokensNeeded"/>).</summary>
    public JsonConstraint(JsonVocabulary vocabulary, IEnumerable<int> stopTokens, int maxTokens, JsonSchemaNode schema)
        : this(vocabulary, stopTokens, maxTokens - 1, SchemaPrefixState.Begin(schema)) { }

    /// <summary>The fewest max_tokens a row constrained to <paramref name="schema"/> needs.</summary>
    public static int TokensNeeded(JsonSchemaNode schema) => schema.MinBytes + 1;

    JsonConstraint(JsonVocabulary vocabulary, IEnumerable<int> stopTokens, int maxTokens, IJsonGrammarState start)
    {
        _vocabulary = vocabulary;
        _stopTokens = [.. stopTokens];
        _maxTokens = maxTokens;
        _state = start;
    }

    /// <summary>The text so far is whole JSON.</summary>
    public bool IsComplete => _state.IsComplete;

    public void Apply(Span<float> logits)
    {
        int budget = _maxTokens - _accepted - 1;   // tokens left after this one
        bool any = false;
        for (int token = 0; token < logits.Length; token++)
        {
            bool allowed = _stopTokens.Contains(token) ? _state.IsComplete : !_state.IsComplete && Next(token) is { } next && next.BytesToClose <= budget;
            if (allowed) any = true;
            else logits[token] = float.NegativeInfinity;
        }
        if (!any) throw new InvalidOperationException($"JSON constraint: no token continues the text (state {_state}, budget {budget}); the vocabulary lacks single-byte tokens");
    }

    public void Accept(int token)
    {
        _accepted++;
        if (_stopTokens.Contains(token)) return;
        _state = Next(token) ?? throw new InvalidOperationException($"JSON constraint: token {token} was chosen although masked");
    }

    IJsonGrammarState? Next(int token)
    {
        var bytes = token < _vocabulary.TokenBytes.Length ? _vocabulary.TokenBytes[token] : [];
        if (bytes.Length == 0) return null;
        IJsonGrammarState? state = _state;
        foreach (var b in bytes)
        {
            state = state.Feed(b);
            if (state is null) return null;
        }
        return state;
    }
}
