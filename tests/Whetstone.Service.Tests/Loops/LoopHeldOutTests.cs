using Whetstone.Service.Loops;

namespace Whetstone.Service.Tests.Loops;

/// <summary>The held-out share of served prompts is a property of the prompt, the same in every
/// process: a prompt served many times is never both trained on and judged on.</summary>
public class LoopHeldOutTests
{
    [Fact]
    public void ThePromptDecidesNotTheProcess()
    {
        // Computed outside .NET (Python: int.from_bytes(sha256(b"held-out\n" + tokens)[:8], "little") % 5).
        Assert.False(LoopIterationJob.IsHeldOut([11, 12, 13, 14]));
        Assert.True(LoopIterationJob.IsHeldOut([16, 12, 13, 14]));
        Assert.True(LoopIterationJob.IsHeldOut([23, 22, 25]));
        Assert.False(LoopIterationJob.IsHeldOut([21, 22, 23]));
    }

    [Fact]
    public void AboutAFifthOfDistinctPromptsAreHeldOut()
    {
        int heldOut = 0;
        for (int a = 0; a < 100; a++)
            for (int b = 0; b < 20; b++)
                if (LoopIterationJob.IsHeldOut([a, 7, b])) heldOut++;
        // 2000 prompts, p = 0.2: mean 400, sd 17.9; the bounds are 4 sd away.
        Assert.InRange(heldOut, 329, 471);
    }

    [Fact]
    public void TheHarnessServesBothSidesInEveryFourPrompts()
    {
        for (int start = 0; start < 40; start++)
        {
            var prompts = Enumerable.Range(start, 4).Select(LoopHarness.Prompt).ToArray();
            Assert.Single(prompts, p => LoopIterationJob.IsHeldOut(p));
        }
        var all = Enumerable.Range(0, 40).Select(i => string.Join(',', LoopHarness.Prompt(i))).ToArray();
        Assert.Equal(all.Length, all.Distinct().Count());
    }
}
