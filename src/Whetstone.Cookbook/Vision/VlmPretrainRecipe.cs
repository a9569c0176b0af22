using System.Diagnostics;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Recipes;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Vision;

/// <summary>Pretraining the zoo VLM through the SDK: full-parameter steps (tower, merger and LM
/// together) on chats about generated shape scenes, textures, letters and digits — each a picture and one question (the kinds
/// in turn), its answer trained — plus one chat in FactEvery that is a text-only fact about
/// a shape word. Checkpoints with automatic resume (as PretrainRecipe), a held-out
/// evaluation per question kind at the end, and the final weights for the sampler.</summary>
public static class VlmPretrainRecipe
{
    public static async Task<(PretrainResult Result, IReadOnlyList<KindAccuracy> Eval)> RunAsync(ServiceClient client,
        HuggingFaceTokenizer tokenizer, VlmPretrainOptions options, Action<string> log, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var chat = new ImageChat(tokenizer);
        var progress = RecipeProgress.Load(options.OutputDirectory);
        var run = progress is not null
            ? await client.CreateTrainingClientFromStateAsync(progress.StatePath, withOptimizer: true, cancellationToken: cancellationToken)
            : await client.CreateTrainingClientAsync(new CreateTrainingRunRequest(options.BaseModel) { FullFineTuning = true, Seed = options.Seed }, cancellationToken);
        if (progress is not null) log($"resumed from {progress.StatePath} at step {progress.Step}");

        var schedule = options.Schedule;
        using var metrics = new StreamWriter(Path.Combine(options.OutputDirectory, "metrics.jsonl"), append: true);
        var clock = Stopwatch.StartNew();
        double lossSum = 0, weightSum = 0, loss = double.NaN;
        long tokens = 0;
        for (int step = (progress?.Step ?? 0) + 1; step <= options.Steps; step++)
        {
            var batch = Enumerable.Range(0, options.BatchSize).Select(i => Example(chat, options, (step - 1) * options.BatchSize + i)).ToArray();
            var adam = new AdamParams { LearningRate = schedule.LearningRate(step), WeightDecay = options.WeightDecay, GradClipNorm = 1.0,
                VisionLearningRateScale = options.VisionLearningRateScale };
            var forwardBackward = await run.ForwardBackwardAsync(batch, "cross_entropy", cancellationToken: cancellationToken);
            var optim = await run.OptimStepAsync(adam, cancellationToken);
            var output = await forwardBackward.ResultAsync(cancellationToken);
            await optim.ResultAsync(cancellationToken);
            double trained = batch.Sum(d => d.LossFnInputs["weights"].Data.Sum());
            lossSum += output.Metrics["loss:sum"];
            weightSum += trained;
            tokens += batch.Sum(d => d.LossFnInputs["weights"].Data.Count);
            if (step % options.LogEvery == 0 || step == options.Steps)
            {
                loss = lossSum / weightSum;
                await metrics.WriteLineAsync(JsonSerializer.Serialize(new { step, loss, lr = adam.LearningRate, seconds = clock.Elapsed.TotalSeconds }));
                await metrics.FlushAsync(cancellationToken);
                log($"step {step}/{options.Steps}  answer loss {loss:F4}  lr {adam.LearningRate:E2}  {clock.Elapsed.TotalSeconds:F0} s");
                lossSum = weightSum = 0;
            }
            if (step % options.CheckpointEvery == 0 || step == options.Steps)
            {
                var state = await (await run.SaveStateAsync($"step-{step}", cancellationToken)).ResultAsync(cancellationToken);
                new RecipeProgress(run.RunId, step, state.Path).Save(options.OutputDirectory);
            }
        }
        var weights = await (await run.SaveWeightsForSamplerAsync("final", cancellationToken)).ResultAsync(cancellationToken);
        var sampler = await client.CreateSamplingClientAsync(modelPath: weights.Path, cancellationToken: cancellationToken);
        var eval = await SceneEval.RunAsync(sampler, chat, options.EvalScenes, options.ImageSize, cancellationToken, options.PixelsPerToken);
        foreach (var k in eval) log($"held-out {k.Kind}: {k.Correct}/{k.Total} = {k.Accuracy:P0} (chance {k.Chance:P0})");
        return (new PretrainResult(weights.Path, options.Steps, loss, tokens), eval);
    }

    /// <summary>Chat number <paramref name="index"/> of the stream, a pure function of it (so a
    /// resumed run continues the same data).</summary>
    public static Datum Example(ImageChat chat, VlmPretrainOptions options, int index)
    {
        var random = new Random(unchecked((int)(options.Seed * 1_000_003 + index)));
        if (index % options.FactEvery == options.FactEvery - 1)
        {
            var (question, answer) = SceneQuestions.Facts[random.Next(SceneQuestions.Facts.Length)];
            return chat.TextTraining(question, answer);
        }
        // One question per chat, the kinds in turn: with several turns the later answers can be
        // copied from earlier ones (the caption names colour, count and shape), and a first run
        // built that way (360 steps) stayed at chance on every kind.
        string kind = options.QuestionKinds[index % options.QuestionKinds.Count];
        if (SceneQuestions.IsPatternKind(kind))
        {
            var (picture, question) = SceneQuestions.Pattern(kind, index, options.ImageSize);
            return chat.Training(picture.Png, ImageChat.TokensFor(options.ImageSize, options.PixelsPerToken), [(question.Question, question.Answer)]);
        }
        var scene = ShapeScenes.Shapes(index, options.ImageSize);
        var questions = SceneQuestions.About(scene, random);
        var q = questions.Single(q => q.Kind == kind);
        return chat.Training(scene.Png, ImageChat.TokensFor(options.ImageSize, options.PixelsPerToken), [(q.Question, q.Answer)]);
    }
}
