using Whetstone.Cookbook.Vision;

namespace Whetstone.Cookbook.Tests.Vision;

public class FewShotPointTests
{
    [Fact]
    public void APointCountsEachAnswerSoACollapseToOneClassIsMeasured()
    {
        string[] labels = ["star", "star", "cross", "cross", "hexagon", "hexagon", "diamond", "diamond"];
        // Every picture answered "star": right on the two stars, a quarter, top share 1.
        var collapsed = FewShotPoint.Of("vlm-lora", 4, 1, Enumerable.Repeat("star", 8).ToArray(), labels);
        Assert.Equal(0.25, collapsed.Accuracy);
        Assert.Equal(1.0, collapsed.TopAnswerShare);
        Assert.Equal(new Dictionary<string, int> { ["star"] = 8 }, collapsed.Answers);
        Assert.Equal(("vlm-lora", 4, 1, 8), (collapsed.Arm, collapsed.ShotsPerClass, collapsed.Seed, collapsed.TestImages));

        // Mixed answers, one not a class name at all (the VLM's text is kept as generated).
        string[] answers = ["star", "cross", "cross", "cross", "hexagon", "circle", "diamond", ""];
        var mixed = FewShotPoint.Of("vlm-lora", 4, 1, answers, labels);
        Assert.Equal(5 / 8.0, mixed.Accuracy);   // the first star, both crosses, the first hexagon, the first diamond
        Assert.Equal(3 / 8.0, mixed.TopAnswerShare);
        Assert.Equal(new Dictionary<string, int> { ["cross"] = 3, [""] = 1, ["circle"] = 1, ["diamond"] = 1, ["hexagon"] = 1, ["star"] = 1 }, mixed.Answers);
        Assert.Equal("cross", mixed.Answers.Keys.First());   // most frequent first

        Assert.Throws<ArgumentException>(() => FewShotPoint.Of("vlm-lora", 4, 1, answers[..7], labels));
        Assert.Throws<ArgumentException>(() => FewShotPoint.Of("vlm-lora", 4, 1, [], []));
    }
}
