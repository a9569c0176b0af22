namespace Whetstone.Cookbook.LongMemory;

/// <summary>Retrieval over turns by sentence embeddings (the all-MiniLM-L6-v2 baseline): the
/// turns ranked by cosine similarity to the question, packed while they fit in B tokens, shown in
/// their original order. The turns are embedded once per conversation (<see cref="EmbeddingRetrieval"/>
/// is built per conversation); each question costs one embedding.</summary>
public sealed class EmbeddingRetrieval
{
    readonly IReadOnlyList<ConversationTurn> _turns;
    readonly float[][] _vectors;
    readonly Func<IReadOnlyList<string>, float[][]> _embed;

    /// <param name="embed">Embeddings of texts, one vector each (any length, not necessarily normalised).</param>
    public EmbeddingRetrieval(IReadOnlyList<ConversationTurn> turns, Func<IReadOnlyList<string>, float[][]> embed)
    {
        _turns = turns;
        _embed = embed;
        _vectors = embed(turns.Select(t => t.User).ToArray());
    }

    public IReadOnlyList<string> Context(string question, int budget, Func<string, int> countTokens)
    {
        var q = _embed([question])[0];
        var similarity = _vectors.Select(v => Cosine(q, v)).ToArray();
        var texts = _turns.Select(t => t.User).ToArray();
        var ranked = Enumerable.Range(0, texts.Length).OrderByDescending(i => similarity[i]).ThenByDescending(i => i);
        return ContextPacking.Pack(texts, ranked, budget, countTokens).Select(i => texts[i]).ToArray();
    }

    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
