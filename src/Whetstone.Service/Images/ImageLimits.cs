namespace Whetstone.Service.Images;

/// <summary>What one image may cost before it is decoded: encoded bytes, and decoded pixels
/// (checked from the header, so a small file that claims a huge canvas is refused unread).</summary>
internal sealed record ImageLimits
{
    public long MaxEncodedBytes { get; init; } = 10 * 1024 * 1024;
    public long MaxPixels { get; init; } = 4096L * 4096;

    public static readonly ImageLimits Default = new();
}
