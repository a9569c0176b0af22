using Whetstone.Protocol;
using Whetstone.Service.Loops;

namespace Whetstone.Service.Tests.Loops;

/// <summary>rl.corrections_keeping_answer: only corrections that keep the served answer's
/// "Answer: N" (word or layout edits of a right answer) are trained as SFT; corrections that redo a
/// wrong or cut-off sum are left out, and so is one whose served answer is not known.</summary>
public class CorrectionsKeepingAnswerTests
{
    static CorrectionExample Correction(string id, string? original, string correction, params int[] tokens) =>
        new(id, "c-" + id, [1, 2, 3], correction, tokens) { Original = original };

    static readonly CorrectionExample[] Corrections =
    [
        Correction("word-edit", "7 + 8 = 15, write 5 carry 1.\nAnswer: 125", "7 + 8 = 15, write 5 keep 1.\nAnswer: 125", 10, 11),
        Correction("redone", "7 + 8 = 14, write 4 carry 1.\nAnswer: 124", "7 + 8 = 15, write 5 carry 1.\nAnswer: 125", 20, 21),
        Correction("cut-off", "7 + 8 = 15, write 5 carry 1.\n5 + 6", "7 + 8 = 15, write 5 carry 1.\nAnswer: 125", 30, 31),
        Correction("unknown", null, "Answer: 125", 40, 41),
        Correction("layout", "2 - 1 = 1.\n7 - 6 = 1.\nAnswer: 11", "2 - 1 = 1. 7 - 6 = 1.\nAnswer: 11", 50, 51, 52),
        Correction("answer-dropped", "Answer: 11", "2 - 1 = 1. 7 - 6 = 1.", 60),
    ];

    /// <summary>The answer tokens of each datum (the targets where the weight is positive).</summary>
    static string[] Answers(List<Datum> data) => data.Select(d => string.Join(",",
        d.LossFnInputs["target_tokens"].Data.Zip(d.LossFnInputs["weights"].Data, (t, w) => (t, w)).Where(x => x.w > 0).Select(x => (long)x.t))).ToArray();

    [Fact]
    public void OnlyCorrectionsThatKeepTheServedResultAreTrained()
    {
        var kept = LoopTrainer.CorrectionData(Corrections, new LoopRlSettings { CorrectionsKeepingAnswer = true, CorrectionSftWeight = 0.5 });
        Assert.Equal(["10,11", "50,51,52"], Answers(kept));
        Assert.All(kept, d => Assert.Equal(0.5, d.LossFnInputs["weights"].Data.Max(), 6));
    }

    [Fact]
    public void WithoutTheSettingEveryCorrectionIsTrained()
    {
        var all = LoopTrainer.CorrectionData(Corrections, new LoopRlSettings());
        Assert.Equal(Corrections.Length, all.Count);
    }

    [Fact]
    public void TheWindowCountsTheKeptCorrectionsOnly()
    {
        // The newest one kept, not the newest one of all (which is dropped).
        var kept = LoopTrainer.CorrectionData(Corrections, new LoopRlSettings { CorrectionsKeepingAnswer = true, CorrectionWindow = 1 });
        Assert.Equal(["50,51,52"], Answers(kept));
    }

    [Theory]
    [InlineData("x\nAnswer: 125", "y\nAnswer: 125", true)]
    [InlineData("x\nAnswer: 124", "y\nAnswer: 125", false)]
    [InlineData("x\nAnswer: -7", "Answer: -7", true)]
    [InlineData("x\nAnswer:", "Answer: 125", false)]
    [InlineData("Answer: 125\nAnswer: 12", "Answer: 125", false)]
    public void KeepsAnswerComparesTheLastResults(string original, string correction, bool keeps) =>
        Assert.Equal(keeps, ArithmeticAnswer.KeepsAnswer(original, correction));
}
