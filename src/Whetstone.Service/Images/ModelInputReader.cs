using Whetstone.Engine.Models.Vision;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Images;

/// <summary>A model input as the engine takes it: tokens, with each image's positions holding the
/// image pad token, and the images' patches placed at those positions.</summary>
internal sealed record ReadModelInput(int[] Tokens, IReadOnlyList<PlacedImage> Images);

/// <summary>Reads a protocol <see cref="P.ModelInput"/> chunk by chunk. Every image is decoded,
/// checked and cut into patches here, before anything is queued, so a bad one is a 400 naming
/// its chunk. An image must sit between the family's vision-start and vision-end tokens (the
/// renderer places them), because the M-RoPE positions of the LM are derived from them.</summary>
internal static class ModelInputReader
{
    public static ReadModelInput Read(P.ModelInput? input, string field, ImageInputRules? rules)
    {
        if (input?.Chunks is null) throw ApiError.BadRequest(field, "is missing");
        var tokens = new List<int>();
        var images = new List<PlacedImage>();
        for (int i = 0; i < input.Chunks.Count; i++)
        {
            string at = $"{field}.chunks[{i}]";
            switch (input.Chunks[i])
            {
                case P.EncodedTextChunk text:
                    var chunkTokens = text.Tokens ?? throw ApiError.BadRequest(at + ".tokens", "is missing");
                    if (rules?.Vision is { } v)
                        for (int j = 0; j < chunkTokens.Count; j++)
                            if (chunkTokens[j] == v.ImageTokenId)
                                throw ApiError.BadRequest($"{at}.tokens[{j}]", $"= {v.ImageTokenId} is the image placeholder token; send the image as an image chunk");
                    tokens.AddRange(chunkTokens);
                    break;
                case P.ImageChunk image:
                    CheckFormat(image.Format, at);
                    var inline = rules?.Vision is null ? null : ImageChunkBytes.Inline(image, at, rules.Limits);
                    if (inline is null) { RefuseWithoutVision(image.Data, at); break; }
                    images.Add(Place(inline, image.Format, image.ExpectedTokens, at, at + ".data", rules!, tokens));
                    break;
                case P.ImageAssetPointerChunk asset:
                    CheckFormat(asset.Format, at);
                    if (rules?.Vision is null) throw ApiError.BadRequest(at, "is an image, but this base model has no vision encoder");
                    images.Add(Place(ImageChunkBytes.Asset(asset, at, rules), asset.Format, asset.ExpectedTokens, at, at + ".location", rules, tokens));
                    break;
                default:
                    throw ApiError.BadRequest(at, "has an unknown type");
            }
        }
        if (rules?.Vision is { } vision)
            foreach (var placed in images)
            {
                int end = placed.Offset + placed.Patches.Tokens(vision.SpatialMergeSize);
                if (end >= tokens.Count || tokens[end] != vision.VisionEndTokenId)
                    throw ApiError.BadRequest(field, $"an image at token {placed.Offset} must be followed by <|vision_end|> (token {vision.VisionEndTokenId})");
            }
        return new ReadModelInput([.. tokens], images);
    }

    static PlacedImage Place(byte[] bytes, string format, int? expectedTokens, string at, string dataField, ImageInputRules rules, List<int> tokens)
    {
        var vision = rules.Vision!;
        if (tokens.Count == 0 || tokens[^1] != vision.VisionStartTokenId)
            throw ApiError.BadRequest(at, $"must come right after <|vision_start|> (token {vision.VisionStartTokenId})");
        var upright = ImageDecoder.Decode(bytes, format, dataField, rules.Limits);
        var (height, width) = ImagePreprocessor.SmartResize(upright.Height, upright.Width, vision.PixelsPerToken,
            ImagePreprocessor.DefaultMinPixels, ImagePreprocessor.DefaultMaxPixels);
        int count = height / vision.PixelsPerToken * (width / vision.PixelsPerToken);
        if (expectedTokens is { } expected && expected != count)
            throw ApiError.BadRequest(at + ".expected_tokens",
                $"= {expected}, but this {upright.Width}×{upright.Height} image is resized to {width}×{height} and takes {count} tokens");
        var patches = ImagePreprocessor.Prepare(upright, vision);
        var placed = new PlacedImage(tokens.Count, patches);
        for (int k = 0; k < count; k++) tokens.Add(vision.ImageTokenId);
        return placed;
    }

    static void CheckFormat(string? format, string at)
    {
        if (format is not ("png" or "jpeg")) throw ApiError.BadRequest(at + ".format", $"'{format}' is not png or jpeg");
    }

    static void RefuseWithoutVision(string? data, string at)
    {
        if (string.IsNullOrEmpty(data) || !Convert.TryFromBase64String(data, new byte[data.Length], out _))
            throw ApiError.BadRequest(at + ".data", "is not valid base64");
        throw ApiError.BadRequest(at, "is an image, but this base model has no vision encoder");
    }
}
