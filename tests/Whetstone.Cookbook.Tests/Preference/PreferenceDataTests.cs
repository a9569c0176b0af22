using Whetstone.Cookbook.Corpus;
using Whetstone.Cookbook.Preference;

namespace Whetstone.Cookbook.Tests.Preference;

public class PreferenceDataTests
{
    [Fact]
    public void ChosenAnswersAreRightAndRejectedOnesWrong()
    {
        var pairs = PreferenceData.Pairs(3, heldOut: false).Take(200).ToList();
        Assert.Equal(200, pairs.Count);
        Assert.Contains(pairs, p => p.Task == ArithmeticTask.Name);
        Assert.Contains(pairs, p => p.Task == InstructionTask.Name);
        foreach (var pair in pairs)
        {
            Assert.EndsWith("Answer: " + pair.Answer, pair.Chosen);
            Assert.NotEqual(pair.Chosen, pair.Rejected);
            Assert.False(pair.Rejected.EndsWith("Answer: " + pair.Answer), pair.Rejected);
            // Only the final answer differs: the preference is about correctness, not style.
            int cut = pair.Chosen.LastIndexOf("Answer: ", StringComparison.Ordinal);
            Assert.Equal(pair.Chosen[..cut], pair.Rejected[..cut]);
        }
        foreach (var pair in pairs.Where(p => p.Task == ArithmeticTask.Name))
            {
            // One digit off: the difference is a power of ten.
            int difference = Math.Abs(int.Parse(ArithmeticTask.ExtractAnswer(pair.Rejected)!) - int.Parse(pair.Answer));
            Assert.Contains(difference, new[] { 1, 10, 100, 1000, 10000 });
        }
    }

    [Fact]
    public void HeldOutPairsNeverShareAQuestionWithTrainPairs()
    {
        var train = PreferenceData.Pairs(3, heldOut: false).Take(2000).Select(p => p.Prompt[0].Content).ToHashSet();
        var heldOut = PreferenceData.Pairs(3, heldOut: true).Take(100).ToList();
        Assert.DoesNotContain(heldOut, p => train.Contains(p.Prompt[0].Content));
    }

    [Fact]
    public void RatingsMixThumbsUpOnRightAndThumbsDownOnWrongAnswers()
    {
        var ratings = PreferenceData.Ratings(4, heldOut: false).Take(200).ToList();
        Assert.InRange(ratings.Count(r => r.ThumbsUp), 70, 130);
        var pairs = PreferenceData.Pairs(4, heldOut: false).Take(200).ToList();
        for (int i = 0; i < 200; i++)
            Assert.Equal(ratings[i].ThumbsUp ? pairs[i].Chosen : pairs[i].Rejected, ratings[i].Response);
    }
}
