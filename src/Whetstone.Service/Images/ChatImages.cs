using Whetstone.Engine.Models.Vision;

namespace Whetstone.Service.Images;

/// <summary>An image_url part of a chat message: its bytes from a data: URL, and the field that
/// names it in a refusal (messages[0].content[1].image_url.url).</summary>
internal sealed record ChatImage(string Field, string Format, byte[] Bytes)
{
    /// <summary>What a Qwen2.5-VL chat template writes in place of an image part; the tokens are
    /// expanded to the image's size once the model is known (as its processor does).</summary>
    public const string Placeholder = "<|vision_start|><|image_pad|><|vision_end|>";

    /// <summary>data:image/png;base64,… or data:image/jpeg;base64,…; any other URL is refused:
    /// the server never fetches from the network.</summary>
    public static ChatImage FromDataUrl(string? url, string field, ImageLimits limits)
    {
        if (string.IsNullOrEmpty(url)) throw ApiError.BadRequest(field, "is required");
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            throw ApiError.BadRequest(field, "must be a data: URL (data:image/png;base64,… or data:image/jpeg;base64,…); images are not fetched from the network");
        int comma = url.IndexOf(',');
        string header = comma < 0 ? url : url[..comma];
        string? format = header.ToLowerInvariant() switch
        {
            "data:image/png;base64" => "png",
            "data:image/jpeg;base64" or "data:image/jpg;base64" => "jpeg",
            _ => null,
        };
        if (format is null || comma < 0)
            throw ApiError.BadRequest(field, $"'{header}' is not data:image/png;base64 or data:image/jpeg;base64");
        var bytes = ImageChunkBytes.Inline(new Protocol.ImageChunk(url[(comma + 1)..], format), field, limits);
        return new ChatImage(field, format, bytes);
    }

    /// <summary>The rendered prompt with each image's single pad token widened to the image's
    /// token count, and the images placed there. The pads must match the images one to one (text
    /// that spells &lt;|image_pad|&gt; itself is refused), each between vision start and end.</summary>
    public static ReadModelInput Expand(IReadOnlyList<int> prompt, IReadOnlyList<ChatImage> images, ImageInputRules rules)
    {
        var vision = rules.Vision ?? throw ApiError.BadRequest(images[0].Field, "is an image, but this model has no vision encoder");
        int pads = prompt.Count(t => t == vision.ImageTokenId);
        if (pads != images.Count)
            throw ApiError.BadRequest("messages", $"render to {pads} <|image_pad|> tokens for {images.Count} images (is <|image_pad|> written in a text part?)");
        var tokens = new List<int>();
        var placed = new List<PlacedImage>();
        foreach (int token in prompt)
        {
            if (token != vision.ImageTokenId) { tokens.Add(token); continue; }
            var image = images[placed.Count];
            if (tokens.Count == 0 || tokens[^1] != vision.VisionStartTokenId)
                throw ApiError.BadRequest(image.Field, "was not rendered after <|vision_start|>");
            var upright = ImageDecoder.Decode(image.Bytes, image.Format, image.Field, rules.Limits);
            var patches = ImagePreprocessor.Prepare(upright, vision);
            placed.Add(new PlacedImage(tokens.Count, patches));
            tokens.AddRange(Enumerable.Repeat(vision.ImageTokenId, patches.Tokens(vision.SpatialMergeSize)));
        }
        return new ReadModelInput([.. tokens], placed);
    }
}
