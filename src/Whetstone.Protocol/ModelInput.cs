using System.Text.Json.Serialization;

namespace Whetstone.Protocol;

/// <summary>What the model reads: ordered chunks of tokens and images.
/// JSON: {"chunks": [{"type": "encoded_text", "tokens": [1, 2]}, {"type": "image", "data": "…base64…", "format": "png"}]}</summary>
public sealed record ModelInput(IReadOnlyList<ModelInputChunk> Chunks)
{
    public static ModelInput FromTokens(IEnumerable<int> tokens) => new([new EncodedTextChunk(tokens.ToArray())]);

    /// <summary>All tokens of the text chunks, in order.</summary>
    public IEnumerable<int> TextTokens() => Chunks.OfType<EncodedTextChunk>().SelectMany(c => c.Tokens);
}

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(EncodedTextChunk), "encoded_text")]
[JsonDerivedType(typeof(ImageChunk), "image")]
[JsonDerivedType(typeof(ImageAssetPointerChunk), "image_asset_pointer")]
public abstract record ModelInputChunk;

public sealed record EncodedTextChunk(IReadOnlyList<int> Tokens) : ModelInputChunk;

/// <summary>An image as base64 bytes, "png" or "jpeg"; expected_tokens optionally states how
/// many positions it occupies.</summary>
public sealed record ImageChunk(string Data, string Format, int? ExpectedTokens = null) : ModelInputChunk;

/// <summary>An image stored on the server: <paramref name="Location"/> is a path relative to the
/// server's asset folder (&lt;data directory&gt;/assets), never a URL; "png" or "jpeg".</summary>
public sealed record ImageAssetPointerChunk(string Location, string Format, int? ExpectedTokens = null) : ModelInputChunk;
