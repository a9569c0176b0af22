namespace Whetstone.Cookbook.Vision;

/// <summary>One measured point: an arm ("vlm-lora", "resnet18-centroid", "resnet18-logistic")
/// at N shots per class with one seed's shots, with what it answered: <see cref="Answers"/>
/// counts each answer over the test pictures (the VLM's text as generated, a head's class), so a
/// run that answers one class for every picture shows as <see cref="TopAnswerShare"/> 1.</summary>
public sealed record FewShotPoint(string Arm, int ShotsPerClass, int Seed, double Accuracy, int TestImages,
    IReadOnlyDictionary<string, int> Answers, double TopAnswerShare)
{
    /// <summary>The point of <paramref name="answers"/>, one per test picture, against the
    /// pictures' <paramref name="labels"/>: right means exactly the label.</summary>
    public static FewShotPoint Of(string arm, int shotsPerClass, int seed, IReadOnlyList<string> answers, IReadOnlyList<string> labels)
    {
        if (answers.Count != labels.Count || answers.Count == 0)
            throw new ArgumentException($"{answers.Count} answers for {labels.Count} test pictures", nameof(answers));
        int right = answers.Where((a, i) => a == labels[i]).Count();
        var counts = answers.GroupBy(a => a).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count());
        return new FewShotPoint(arm, shotsPerClass, seed, (double)right / answers.Count, answers.Count, counts,
            (double)counts.Values.Max() / answers.Count);
    }
}
