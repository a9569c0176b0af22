using Whetstone.Engine.Models.Vision;
using Whetstone.Protocol;
using Whetstone.Service.Images;

namespace Whetstone.Service.Tests.Images;

/// <summary>Images for a VLM whose tower is the frozen ResNet18: one token per 224-pixel tile,
/// values left as 0–255 (the encoder's own graph normalises them), expected_tokens checked.</summary>
public class FrozenEncoderInputTests
{
    static readonly VisionConfig Vision = FrozenEncoders.ResNet18Config(32, 300, 301, 302);
    readonly string _data = Directory.CreateTempSubdirectory("whetstone-images-").FullName;

    static ModelInput Input(byte[] png, int? expected) =>
        new([new EncodedTextChunk([5, 301]), new ImageChunk(Convert.ToBase64String(png), "png", expected), new EncodedTextChunk([302, 7])]);

    [Fact]
    public void ASmallPictureIsOneTileOfRawLevels()
    {
        // 112 × 56 → resized to 224 × 224: one tile, one token. Quadrants: red top-left, blue top-right.
        var read = ModelInputReader.Read(Input(TestImages.Png(), 1), "prompt", ImageInputRules.For(Vision, _data));
        Assert.Equal([5, 301, 300, 302, 7], read.Tokens);
        var tile = Assert.Single(read.Images).Patches;
        Assert.Equal((1, 1, 1), (tile.GridT, tile.GridH, tile.GridW));
        Assert.Equal(3 * 224 * 224, tile.Values.Length);
        const int plane = 224 * 224;
        Assert.Equal(255, tile.Values[0], 3.0);                 // red channel, top-left pixel
        Assert.Equal(0, tile.Values[2 * plane], 3.0);           // blue channel, top-left pixel
        Assert.Equal(255, tile.Values[2 * plane + 223], 3.0);   // blue channel, top-right pixel
    }

    [Fact]
    public void ALargerPictureIsCutIntoTilesAndAWrongCountIsRefused()
    {
        var rules = ImageInputRules.For(Vision, _data);
        var read = ModelInputReader.Read(Input(TestImages.Png(448, 224), 2), "prompt", rules);
        Assert.Equal((1, 1, 2), (read.Images[0].Patches.GridT, read.Images[0].Patches.GridH, read.Images[0].Patches.GridW));
        Assert.Equal([5, 301, 300, 300, 302, 7], read.Tokens);
        var refused = Assert.Throws<ApiError>(() => ModelInputReader.Read(Input(TestImages.Png(), 9), "prompt", rules));
        Assert.Equal("prompt.chunks[1].expected_tokens", refused.Field);
        Assert.Contains("= 9", refused.Message);
        Assert.Contains("takes 1 tokens", refused.Message);
    }
}
