using Whetstone.Engine.Models.Vision;
using Whetstone.Service.Images;

namespace Whetstone.Service.Tests.Images;

/// <summary>Qwen3-VL's image processor differs from Qwen2.5-VL's in its 16-pixel patches (32-pixel
/// LM tokens) and its 0.5 / 0.5 normalisation.</summary>
public class Qwen3VlPreprocessingTests
{
    static VisionConfig Vision(VisionArchitecture architecture, int patch) => new()
    {
        Architecture = architecture, Depth = 1, HiddenSize = 32, IntermediateSize = 64, NumHeads = 2, OutHiddenSize = 32, PatchSize = patch,
        NumPositionEmbeddings = 16, ImageTokenId = 3, VisionStartTokenId = 1, VisionEndTokenId = 2,
    };

    [Fact]
    public void AWhitePictureNormalisesToOneOn32PixelTokens()
    {
        var white = new UprightImage(64, 96, Enumerable.Repeat((byte)255, 64 * 96 * 3).ToArray());
        var patches = ImagePreprocessor.Prepare(white, Vision(VisionArchitecture.Qwen3Vl, 16));
        Assert.Equal((1, 6, 4), (patches.GridT, patches.GridH, patches.GridW));   // 96 × 64 pixels in 16-pixel patches
        Assert.Equal(6, patches.Tokens(2));
        Assert.All(patches.Values, v => Assert.Equal(1f, v, 5));                  // (1 − 0.5) / 0.5
        // Qwen2.5-VL's CLIP statistics give a different value per channel on the same picture.
        var clip = ImagePreprocessor.Prepare(white, Vision(VisionArchitecture.Qwen2_5Vl, 14) with { NumPositionEmbeddings = 0 });
        Assert.Equal((1 - 0.48145466f) / 0.26862954f, clip.Values[0], 3);
    }
}
