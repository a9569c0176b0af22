using Whetstone.Engine.Models.Vision;
using Whetstone.Engine.Training;

namespace Whetstone.Engine.Tests.Models.Vision;

/// <summary>The learner reads the image: two prompts identical but for their image, each with its
/// own answer. A model that ignored the image could not go below ln 2 per answer token (it must
/// split its bet); one that reads it drives the loss towards zero.</summary>
public class ImageDependentLearningTests
{
    [Fact]
    public void FullFineTuningLearnsAnAnswerThatOnlyTheImageTells()
    {
        using var network = VisionTestModels.Network();
        var v = network.Config.Vision!;
        var data = Enumerable.Range(0, 2).Select(i =>
        {
            var (tokens, placed) = VisionTestModels.Row(v, [5], VisionTestModels.RandomImage(v, 4, 4, seed: 20 + i), [40 + i]);
            return new Datum
            {
                InputTokens = tokens[..^1], TargetTokens = tokens[1..], Images = [placed],
                Weights = tokens[1..].Select((_, k) => k == tokens.Length - 2 ? 1f : 0f).ToArray(),
            };
        }).ToArray();
        using var run = TrainingRun.CreateFull(network);
        var loss = LossSpec.Parse("cross_entropy");
        for (int step = 0; step < 40; step++)
        {
            run.ForwardBackward(data, loss);
            run.OptimStep(new AdamParams { LearningRate = 1e-2 });
        }
        double perAnswer = run.Forward(data, loss).Loss / 2;
        Assert.True(perAnswer < 0.2, $"loss per answer {perAnswer:F3} (ln 2 = 0.693 is what ignoring the image allows)");
    }
}
