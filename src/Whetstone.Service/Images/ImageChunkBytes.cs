using P = Whetstone.Protocol;

namespace Whetstone.Service.Images;

/// <summary>The encoded bytes of an image chunk: base64 inline, or a file under the asset folder.
/// A pointer is a relative path; absolute paths, URLs, ".." segments and links that lead out of
/// the folder are refused, and so is a file over the byte limit (checked before it is read).</summary>
internal static class ImageChunkBytes
{
    public static byte[] Inline(P.ImageChunk chunk, string field, ImageLimits limits)
    {
        if (string.IsNullOrEmpty(chunk.Data)) throw ApiError.BadRequest(field + ".data", "is missing");
        // base64 of n bytes is 4·⌈n/3⌉ characters: refuse an oversized image before decoding it.
        long approximateBytes = chunk.Data.Length / 4L * 3;
        if (approximateBytes > limits.MaxEncodedBytes + 3)
            throw ApiError.BadRequest(field + ".data", $"is about {approximateBytes} bytes, more than the limit of {limits.MaxEncodedBytes}");
        var buffer = new byte[chunk.Data.Length];
        if (!Convert.TryFromBase64String(chunk.Data, buffer, out int written))
            throw ApiError.BadRequest(field + ".data", "is not valid base64");
        return buffer[..written];
    }

    public static byte[] Asset(P.ImageAssetPointerChunk chunk, string field, ImageInputRules rules)
    {
        string at = field + ".location";
        string location = chunk.Location ?? throw ApiError.BadRequest(at, "is missing");
        if (location.Length == 0) throw ApiError.BadRequest(at, "is empty");
        if (location.Contains("://") || location.StartsWith("data:", StringComparison.Ordinal))
            throw ApiError.BadRequest(at, $"'{location}' is a URL; give a path relative to the server's asset folder");
        if (Path.IsPathRooted(location) || location.Contains('\\') || location.Split('/').Any(s => s is ".." or "."))
            throw ApiError.BadRequest(at, $"'{location}' must be a relative path without '.', '..' or '\\' inside the asset folder");
        var root = Path.GetFullPath(rules.AssetDirectory) + Path.DirectorySeparatorChar;
        var path = Path.GetFullPath(Path.Combine(root, location));
        if (!path.StartsWith(root, StringComparison.Ordinal)) throw ApiError.BadRequest(at, $"'{location}' leads out of the asset folder");
        var file = new FileInfo(path);
        if (!file.Exists) throw ApiError.BadRequest(at, $"'{location}' is not a file in the asset folder");
        // A link inside the folder that points outside it is as good as "..": resolve and re-check.
        var target = file.ResolveLinkTarget(returnFinalTarget: true);
        if (target is not null && !Path.GetFullPath(target.FullName).StartsWith(root, StringComparison.Ordinal))
            throw ApiError.BadRequest(at, $"'{location}' is a link that leads out of the asset folder");
        if (file.Length > rules.Limits.MaxEncodedBytes)
            throw ApiError.BadRequest(at, $"'{location}' is {file.Length} bytes, more than the limit of {rules.Limits.MaxEncodedBytes}");
        return File.ReadAllBytes(path);
    }
}
