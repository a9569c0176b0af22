using Whetstone.Engine.Models.Vision;
using Whetstone.Protocol;
using Whetstone.Service.Images;

namespace Whetstone.Service.Tests.Images;

/// <summary>Every image path of a model input, and every way it can be bad: each refusal names
/// its field, before anything is queued.</summary>
public class ModelInputReaderTests
{
    internal static readonly VisionConfig Vision = new()
    {
        Depth = 1, HiddenSize = 32, IntermediateSize = 64, NumHeads = 2, OutHiddenSize = 32,
        ImageTokenId = 300, VisionStartTokenId = 301, VisionEndTokenId = 302,
    };

    readonly string _data = Directory.CreateTempSubdirectory("whetstone-images-").FullName;
    ImageInputRules Rules => ImageInputRules.For(Vision, _data);

    static ModelInput Input(ModelInputChunk image, params int[] after) =>
        new([new EncodedTextChunk([5, Vision.VisionStartTokenId]), image, new EncodedTextChunk([Vision.VisionEndTokenId, .. after])]);

    static ImageChunk Inline(byte[] bytes, string format = "png", int? expected = null) => new(Convert.ToBase64String(bytes), format, expected);

    ApiError Refused(ModelInput input, ImageInputRules? rules = null) =>
        Assert.Throws<ApiError>(() => ModelInputReader.Read(input, "prompt", rules ?? Rules));

    [Fact]
    public void AnImageBecomesPadTokensWithItsPatches()
    {
        // 112 × 56 px → 4 × 2 tokens of 28 px → 8 × 4 patches.
        var read = ModelInputReader.Read(Input(Inline(TestImages.Png(), expected: 8), 7), "prompt", Rules);
        Assert.Equal([5, 301, .. Enumerable.Repeat(300, 8), 302, 7], read.Tokens);
        var placed = Assert.Single(read.Images);
        Assert.Equal(2, placed.Offset);
        Assert.Equal((1, 4, 8), (placed.Patches.GridT, placed.Patches.GridH, placed.Patches.GridW));
        Assert.Equal(32 * Vision.PatchValues, placed.Patches.Values.Length);
        // CLIP normalisation of pure red in the top-left patch: R = (1 − 0.4815) / 0.2686, B = −0.4082 / 0.2758.
        Assert.Equal((1 - 0.48145466) / 0.26862954, placed.Patches.Values[0], 0.02);
        Assert.Equal(-0.40821073 / 0.27577711, placed.Patches.Values[2 * 2 * 14 * 14], 0.02);
    }

    [Fact]
    public void TheSameImageFromAnAssetPointerReadsTheSame()
    {
        Directory.CreateDirectory(Path.Combine(_data, "assets", "cats"));
        File.WriteAllBytes(Path.Combine(_data, "assets", "cats", "a.png"), TestImages.Png());
        var fromAsset = ModelInputReader.Read(Input(new ImageAssetPointerChunk("cats/a.png", "png")), "prompt", Rules);
        var inline = ModelInputReader.Read(Input(Inline(TestImages.Png())), "prompt", Rules);
        Assert.Equal(inline.Tokens, fromAsset.Tokens);
        Assert.Equal(inline.Images[0].Patches.Values, fromAsset.Images[0].Patches.Values);
    }

    [Theory]
    [InlineData("../whetstone.db", "without '.', '..'")]
    [InlineData("cats/../../x.png", "without '.', '..'")]
    [InlineData("/etc/passwd", "relative path")]
    [InlineData("https://example.com/cat.png", "is a URL")]
    [InlineData("file:///etc/passwd", "is a URL")]
    [InlineData("missing.png", "is not a file")]
    public void AssetPointersStayInsideTheAssetFolder(string location, string reason)
    {
        Directory.CreateDirectory(Path.Combine(_data, "assets"));
        var error = Refused(Input(new ImageAssetPointerChunk(location, "png")));
        Assert.Equal("prompt.chunks[1].location", error.Field);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void ALinkOutOfTheAssetFolderIsRefused()
    {
        Directory.CreateDirectory(Path.Combine(_data, "assets"));
        var outside = Path.Combine(_data, "secret.png");
        File.WriteAllBytes(outside, TestImages.Png());
        File.CreateSymbolicLink(Path.Combine(_data, "assets", "link.png"), outside);
        var error = Refused(Input(new ImageAssetPointerChunk("link.png", "png")));
        Assert.Contains("link that leads out", error.Message);
    }

    [Fact]
    public void ExpectedTokensMismatchFailsNamingTheChunk()
    {
        var error = Refused(Input(Inline(TestImages.Png(), expected: 3)));
        Assert.Equal("prompt.chunks[1].expected_tokens", error.Field);
        Assert.Contains("= 3, but this 112×56 image is resized to 112×56 and takes 8 tokens", error.Message);
    }

    [Fact]
    public void BadImagesAreRefusedNamingTheirField()
    {
        var png = TestImages.Png();
        (ModelInput Input, string Field, string Reason)[] cases =
        [
            (Input(new ImageChunk("***", "png")), "prompt.chunks[1].data", "not valid base64"),
            (Input(Inline("definitely not an image"u8.ToArray())), "prompt.chunks[1].data", "not a PNG or JPEG"),
            (Input(Inline(png[..(png.Length / 2)])), "prompt.chunks[1].data", "truncated"),
            (Input(Inline(png, "gif")), "prompt.chunks[1].format", "'gif' is not png or jpeg"),
            (Input(Inline(png, "jpeg")), "prompt.chunks[1].data", "is a png image but format says 'jpeg'"),
            (new ModelInput([new EncodedTextChunk([5]), Inline(png), new EncodedTextChunk([302])]), "prompt.chunks[1]", "must come right after <|vision_start|>"),
            (new ModelInput([new EncodedTextChunk([301]), Inline(png), new EncodedTextChunk([7])]), "prompt", "must be followed by <|vision_end|>"),
            (new ModelInput([new EncodedTextChunk([5, 300])]), "prompt.chunks[0].tokens[1]", "image placeholder"),
        ];
        foreach (var (input, field, reason) in cases)
        {
            var error = Refused(input);
            Assert.True(error.Field == field && error.Message.Contains(reason, StringComparison.Ordinal), $"expected {field}: …{reason}…, got {error.Field}: {error.Message}");
        }
        var limited = Refused(Input(Inline(png)), Rules with { Limits = new ImageLimits { MaxPixels = 100 } });
        Assert.Equal("prompt.chunks[1].data", limited.Field);
        Assert.Contains("more than the limit of 100", limited.Message);
    }

    [Fact]
    public void ATextModelRefusesImages()
    {
        var error = Refused(Input(Inline(TestImages.Png())), ImageInputRules.For(null, _data));
        Assert.Equal("prompt.chunks[1]", error.Field);
        Assert.Contains("no vision encoder", error.Message);
    }

    [Fact]
    public void SmartResizeKeepsAspectAndTheTokenGrid()
    {
        Assert.Equal((56, 84), ImagePreprocessor.SmartResize(28, 56, 28, 56 * 56, 28 * 28 * 1280));      // 1568 px < 3136: scaled up
        Assert.Equal((56, 56), ImagePreprocessor.SmartResize(10, 10, 28, 56 * 56, 28 * 28 * 1280));      // up to the minimum
        Assert.Equal((476, 644), ImagePreprocessor.SmartResize(480, 640, 28, 56 * 56, 28 * 28 * 1280));  // rounded to 28
        var (h, w) = ImagePreprocessor.SmartResize(4000, 3000, 28, 56 * 56, 28 * 28 * 1280);             // down under the maximum
        Assert.True(h * w <= 28 * 28 * 1280 && h % 28 == 0 && w % 28 == 0, $"{h}×{w}");
    }
}
