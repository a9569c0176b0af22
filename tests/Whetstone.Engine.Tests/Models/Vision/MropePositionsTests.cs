using Whetstone.Engine.Models.Vision;

namespace Whetstone.Engine.Tests.Models.Vision;

public class MropePositionsTests
{
    [Fact]
    public void ImageTokensTakeGridPositionsAndTextContinuesAfterTheLargerSide()
    {
        // 2 text tokens, vision_start, a 4 × 6 patch image (2 × 3 merged tokens), vision_end, 1 text.
        var image = new PlacedImage(3, new ImagePatches(new float[4 * 6], 1, 4, 6));
        var p = MropePositions.For(3 + 6 + 2, [image], spatialMergeSize: 2);
        Assert.Equal([0L, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7], p.Temporal);
        Assert.Equal([0L, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7], p.Height);
        Assert.Equal([0L, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7], p.Width);
        Assert.Equal(8 - 11, p.Delta);   // next text position = sequence index + delta
    }

    [Fact]
    public void TextOnlyIsOneDimensional()
    {
        var p = MropePositions.For(5, [], 2);
        Assert.Equal([0L, 1, 2, 3, 4], p.Temporal);
        Assert.Equal(p.Temporal, p.Height);
        Assert.Equal(p.Temporal, p.Width);
        Assert.Equal(0, p.Delta);
    }
}
