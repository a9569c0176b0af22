using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Vision;

/// <summary>The VLM arm of the few-shot comparison, through the SDK only: a LoRA run on the
/// VLM learns to answer the shape question with the class name from the shots, then answers
/// each test picture greedily; right means exactly the class name, and every answer is kept
/// (FewShotPoint.Answers).</summary>
public sealed record FewShotVlmOptions
{
    public required string BaseModel { get; init; }
    public int Rank { get; init; } = 8;
    public int Steps { get; init; } = 20;
    /// <summary>Shots per step (cycled through in a seed-shuffled order).</summary>
    public int BatchSize { get; init; } = 16;
    public double LearningRate { get; init; } = 1e-2;
    public int ImageSize { get; init; } = 84;
    /// <summary>28 for the ViT tower; 224 for the frozen ResNet18 tower (then ImageSize 224:
    /// one token holding the same features the baseline arms classify).</summary>
    public int PixelsPerToken { get; init; } = 28;
}

public static class FewShotVlm
{
    /// <summary>The answer to each of <paramref name="test"/>, in order, after LoRA on
    /// <paramref name="shots"/> (none: the base model as it is, zero-shot).</summary>
    public static async Task<IReadOnlyList<string>> AnswersAsync(ServiceClient client, ImageChat chat, FewShotVlmOptions options,
        IReadOnlyList<LabelledScene> shots, IReadOnlyList<LabelledScene> test, int seed, CancellationToken cancellationToken = default)
    {
        int tokens = ImageChat.TokensFor(options.ImageSize, options.PixelsPerToken);
        SamplingClient sampler;
        if (shots.Count == 0) sampler = await client.CreateSamplingClientAsync(baseModel: options.BaseModel, cancellationToken: cancellationToken);
        else
        {
            var run = await client.CreateLoraTrainingClientAsync(options.BaseModel, options.Rank, seed, cancellationToken: cancellationToken);
            var shuffle = new Random(seed);
            var order = shots.OrderBy(_ => shuffle.Next()).ToArray();
            var data = order.Select(s => chat.Training(s.Png(options.ImageSize), tokens, [(FewShotTask.Question, s.Label)])).ToArray();
            int next = 0;
            for (int step = 0; step < options.Steps; step++)
            {
                var batch = Enumerable.Range(0, Math.Min(options.BatchSize, data.Length)).Select(_ => data[next++ % data.Length]).ToArray();
                var fb = await run.ForwardBackwardAsync(batch, "cross_entropy", cancellationToken: cancellationToken);
                var optim = await run.OptimStepAsync(new AdamParams { LearningRate = options.LearningRate }, cancellationToken);
                await fb.ResultAsync(cancellationToken);
                await optim.ResultAsync(cancellationToken);
            }
            sampler = await run.SaveWeightsAndGetSamplingClientAsync($"shots-{shots.Count}-seed-{seed}", cancellationToken);
        }
        var parameters = new SamplingParams { MaxTokens = 8, Temperature = 0, Seed = 0, StopTokenIds = [.. chat.StopTokenIds] };
        var futures = test.Select(s => sampler.SampleAsync(chat.Prompt(s.Png(options.ImageSize), tokens, FewShotTask.Question), 1, parameters, cancellationToken: cancellationToken)).ToArray();
        var answers = new string[test.Count];
        for (int i = 0; i < test.Count; i++)
            answers[i] = chat.Answer((await (await futures[i]).ResultAsync(cancellationToken)).Sequences[0].Tokens);
        return answers;
    }
}
