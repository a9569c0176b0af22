using Whetstone.Protocol;

namespace Whetstone.Client.Tests;

public class DatumsTests
{
    [Fact]
    public void CrossEntropyReadsAllButTheLastTokenAndPredictsAllButTheFirst()
    {
        var datum = Datums.ForCrossEntropy([10, 11, 12, 13], [0f, 0f, 1f, 0.5f]);

        Assert.Equal([10, 11, 12], datum.ModelInput.TextTokens());
        Assert.Equal([11.0, 12.0, 13.0], datum.LossFnInputs["target_tokens"].Data);
        Assert.Equal("int64", datum.LossFnInputs["target_tokens"].Dtype);
        Assert.Equal([0.0, 1.0, 0.5], datum.LossFnInputs["weights"].Data);
        Assert.Equal("float32", datum.LossFnInputs["weights"].Dtype);
    }

    [Fact]
    public void CrossEntropyWithoutWeightsTrainsOnEveryPredictedToken()
    {
        var datum = Datums.ForCrossEntropy([10, 11, 12]);

        Assert.Equal([1.0, 1.0], datum.LossFnInputs["weights"].Data);
    }

    [Fact]
    public void PolicyGradientShiftsLogprobsAndAdvantagesWithTheTokens()
    {
        var datum = Datums.ForPolicyGradient([1, 2, 3], [0f, -0.5f, -1.25f], [0f, 2f, 2f]);

        Assert.Equal([2.0, 3.0], datum.LossFnInputs["target_tokens"].Data);
        Assert.Equal([-0.5, -1.25], datum.LossFnInputs["logprobs"].Data);
        Assert.Equal([2.0, 2.0], datum.LossFnInputs["advantages"].Data);
    }

    [Fact]
    public void WeightsOfAnotherLengthAreRefusedWithBothCounts()
    {
        var error = Assert.Throws<ArgumentException>(() => Datums.ForCrossEntropy([1, 2, 3], [1f, 1f]));

        Assert.Equal("weights", error.ParamName);
        Assert.Contains("2 values for 3 tokens", error.Message);
    }

    [Fact]
    public void ASingleTokenCannotBeADatum()
    {
        Assert.Throws<ArgumentException>(() => Datums.ForCrossEntropy([1]));
    }
}
