using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Corpus;
using Whetstone.Cookbook.Evals;
using Whetstone.Cookbook.Recipes;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>The SFT recipe, through the SDK over the in-process transport.</summary>
public class SftRecipeTests
{
    static string WriteJsonl(bool heldOut, int count, bool withBadLine)
    {
        var path = Path.Combine(TestServers.NewDataDirectory() + ".jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var lines = CorpusGenerator.Generate(5, heldOut, [InstructionTask.Name]).Take(count)
            .Select(e => JsonSerializer.Serialize(new { messages = e.Messages.Select(m => new { role = m.Role, content = m.Content }) })).ToList();
        if (withBadLine) lines.Insert(3, "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}");
        File.WriteAllLines(path, lines);
        return path;
    }

    static async Task<(SftResult Result, List<string> Log, string Output)> RunAsync(string train, string heldOut, int steps, string? output = null, double learningRate = 5e-3)
    {
        output ??= TestServers.NewDataDirectory();
        await using var core = await ServiceCore.CreateAsync(TestServers.Options(Path.Combine(output, "service")));
        using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
        var log = new List<string>();
        var result = await SftRecipe.RunAsync(client, HuggingFaceTokenizer.Load(TestServers.Model), new SftOptions
        {
            BaseModel = TestServers.ModelName, TrainData = train, HeldOutData = heldOut, OutputDirectory = output,
            Rank = 8, LearningRate = learningRate, BatchSize = 4, Steps = steps, CheckpointEvery = 3, EvaluateEvery = 3, Seed = 1,
        }, log.Add);
        return (result, log, output);
    }

    [Fact]
    public async Task SftLearnsReportsBadLinesAndResumesExactlyWhereItStopped()
    {
        var train = WriteJsonl(heldOut: false, count: 40, withBadLine: true);
        var heldOut = WriteJsonl(heldOut: true, count: 8, withBadLine: false);

        var whole = await RunAsync(train, heldOut, steps: 6);
        Assert.Contains(whole.Log, l => l.Contains(":4:") && l.Contains("wizard"));   // line 4 is the bad one
        Assert.True(whole.Result.LastLoss < whole.Result.FirstLoss, $"{whole.Result.FirstLoss} → {whole.Result.LastLoss}");
        // Six steps of 4 examples lower the held-out NLL by a stated factor. Measured (seed 1):
        // 5.760 → 5.321 per token, × 0.924 (the base model is near uniform: ln 320 = 5.768).
        // The base model's figure is the recipe's own after one step at learning rate 0.
        double baseNll = (await RunAsync(train, heldOut, steps: 1, learningRate: 0)).Result.HeldOutNll!.Value;
        Assert.True(whole.Result.HeldOutNll <= 0.95 * baseNll, $"held-out NLL {baseNll:F4} → {whole.Result.HeldOutNll:F4}");
        Assert.EndsWith("/sampler_weights/final", whole.Result.SamplerPath);
        var metrics = File.ReadAllLines(Path.Combine(whole.Output, "metrics.jsonl"));
        Assert.Equal(6, metrics.Length);
        Assert.True(File.Exists(Path.Combine(whole.Output, "loss.png")));

        // Stop after 3 steps, run again to 6: it resumes from the step-3 state, bit for bit.
        var output = TestServers.NewDataDirectory();
        await RunAsync(train, heldOut, steps: 3, output);
        var resumed = await RunAsync(train, heldOut, steps: 6, output);
        Assert.Contains(resumed.Log, l => l.StartsWith("resumed from") && l.EndsWith("at step 3"));
        Assert.Equal(6, File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Length);
        Assert.Equal(whole.Result.LastLoss, resumed.Result.LastLoss);
        Assert.Equal(whole.Result.HeldOutNll, resumed.Result.HeldOutNll);
    }

    [Fact]
    public async Task EvalHarnessScoresTheSftCheckpointAboveTheBaseModel()
    {
        var train = WriteJsonl(heldOut: false, count: 60, withBadLine: false);
        var heldOut = WriteJsonl(heldOut: true, count: 8, withBadLine: false);
        var output = TestServers.NewDataDirectory();
        var sft = await RunAsync(train, heldOut, steps: 12, output);

        await using var core = await ServiceCore.CreateAsync(TestServers.Options(Path.Combine(output, "service")));
        using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
        var tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);
        var baseSampler = await client.CreateSamplingClientAsync(baseModel: TestServers.ModelName);
        var tunedSampler = await client.CreateSamplingClientAsync(modelPath: sft.Result.SamplerPath);

        var baseNll = await Evaluator.RunAsync(baseSampler, tokenizer, "nll", 20);
        var tunedNll = await Evaluator.RunAsync(tunedSampler, tokenizer, "nll", 20);
        // Measured (seed 1, 12 steps): 5.751 → 4.765 per answer token.
        Assert.True(tunedNll.Nll < baseNll.Nll - 0.5, $"NLL base {baseNll.Nll:F3}, tuned {tunedNll.Nll:F3}");
        var accuracy = await Evaluator.RunAsync(tunedSampler, tokenizer, "instruction", 10);
        Assert.Equal(10, accuracy.Examples);
        Assert.Equal(3, accuracy.Samples.Count);
        // The harness grades the held-out examples in order: the samples are the first three, each
        // marked right or with its expected answer, and the accuracy counts the right ones. (This
        // tiny model answers none: measured 0 of 10, replies that repeat one letter.)
        var examples = CorpusGenerator.Generate(0, heldOut: true, [InstructionTask.Name]).Take(3).ToList();
        for (int i = 0; i < 3; i++)
        {
            Assert.StartsWith(examples[i].Messages[0].Content + " → ", accuracy.Samples[i]);
            Assert.True(accuracy.Samples[i].EndsWith("(right)") || accuracy.Samples[i].EndsWith($"(expected {examples[i].Answer})"), accuracy.Samples[i]);
        }
        int rightShown = accuracy.Samples.Count(s => s.EndsWith("(right)"));
        Assert.InRange(accuracy.Accuracy!.Value * 10, rightShown - 1e-9, rightShown + 7 + 1e-9);
        Assert.Equal(Math.Round(accuracy.Accuracy.Value * 10), accuracy.Accuracy.Value * 10, 9);
        await Assert.ThrowsAsync<ArgumentException>(() => Evaluator.RunAsync(tunedSampler, tokenizer, "poetry", 1));
        await Assert.ThrowsAsync<ArgumentException>(() => Evaluator.RunAsync(tunedSampler, tokenizer, "instruction", 1, maxTokens: 0));
    }
}
