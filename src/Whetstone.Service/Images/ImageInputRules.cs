using Whetstone.Engine.Models.Vision;

namespace Whetstone.Service.Images;

/// <summary>What a request's images are read against: the served model's vision tower (null for a
/// text-only model), the folder asset pointers resolve in, and the size limits.</summary>
internal sealed record ImageInputRules(VisionConfig? Vision, string AssetDirectory, ImageLimits Limits)
{
    /// <summary>Asset pointers resolve under &lt;data directory&gt;/assets: a folder of its own, so a
    /// pointer can never reach the metadata database or another tenant's checkpoints.</summary>
    public static ImageInputRules For(VisionConfig? vision, string dataDirectory) =>
        new(vision, Path.Combine(dataDirectory, "assets"), ImageLimits.Default);
}
