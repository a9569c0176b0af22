using Whetstone.Client;
using Whetstone.Cookbook.Distillation;
using Whetstone.Chat;
using Whetstone.Engine.ModelMaker;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>On-policy distillation through the SDK between two tiny models with one tokenizer.</summary>
public class DistillationRecipeTests
{
    const string TeacherName = "tiny-teacher";
    static readonly Lazy<string> TeacherDirectory = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-service-tests", "models", TeacherName);
        if (!File.Exists(Path.Combine(directory, "config.json")))
            RandomModelWriter.Write(directory, new RandomModelSpec { HiddenSize = 48, NumHiddenLayers = 2, IntermediateSize = 96, MaxPositionEmbeddings = 256, Seed = 21 });
        return directory;
    });

    static Task<ServiceCore> StartAsync() => ServiceCore.CreateAsync(TestServers.Options(TestServers.NewDataDirectory()) with
    {
        ModelDirectories = [TestServers.Model, TeacherDirectory.Value],
    });

    [Fact]
    public async Task AdvantagesAreTheNegativeReverseKlAndVanishWhenTheTeacherIsTheStudent()
    {
        await using var core = await StartAsync();
        using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
        var renderer = RendererFactory.For(HuggingFaceTokenizer.Load(TestServers.Model));
        var prompts = new[] { renderer.BuildGenerationPrompt([ChatMessage.User("What is 12 + 30?")]) };
        var student = await client.CreateSamplingClientAsync(baseModel: TestServers.ModelName);
        var teacher = await client.CreateSamplingClientAsync(baseModel: TeacherName);
        var parameters = new SamplingParams { MaxTokens = 12, Seed = 3 };

        var self = await OnPolicyDistillation.RolloutsAsync(student, student, prompts, 2, parameters, CancellationToken.None);
        // The sampler's logprobs equal compute_logprobs', so against itself every advantage is ~0.
        Assert.All(self.Data.SelectMany(d => d.LossFnInputs["advantages"].Data), a => Assert.True(Math.Abs(a) < 1e-4, $"advantage {a}"));

        var other = await OnPolicyDistillation.RolloutsAsync(student, teacher, prompts, 2, parameters, CancellationToken.None);
        Assert.Equal(24, other.Tokens);
        var datum = other.Data[0];
        var tokens = datum.ModelInput.TextTokens().Append((int)datum.LossFnInputs["target_tokens"].Data[^1]).ToArray();
        var teacherLogprobs = (await (await teacher.ComputeLogprobsAsync(ModelInput.FromTokens(tokens))).ResultAsync()).Logprobs;
        var q = datum.LossFnInputs["logprobs"].Data;
        var advantages = datum.LossFnInputs["advantages"].Data;
        int promptLength = prompts[0].Count;
        for (int t = 0; t < advantages.Count; t++)
        {
            // Datum position t predicts token t + 1.
            if (t + 1 < promptLength) { Assert.Equal(0, advantages[t]); continue; }
            Assert.Equal(teacherLogprobs[t + 1]!.Value - q[t], advantages[t], 4);
        }
        Assert.Equal(-other.Data.Sum(d => d.LossFnInputs["advantages"].Data.Sum()) / other.Tokens, other.MeanKl, 3);
    }

    [Fact]
    public async Task DistillationBringsTheStudentCloserToTheTeacher()
    {
        await using var core = await StartAsync();
        using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
        var output = TestServers.NewDataDirectory();
        var result = await OnPolicyDistillation.RunAsync(client, HuggingFaceTokenizer.Load(TestServers.Model), new DistillationOptions
        {
            StudentModel = TestServers.ModelName, TeacherModel = TeacherName, OutputDirectory = output,
            Rank = 8, LearningRate = 1e-2, Steps = 8, PromptsPerStep = 4, SamplesPerPrompt = 2, MaxTokens = 16,
            HeldOutPrompts = 8, EvaluateEvery = 4, Seed = 2,
        }, _ => { });
        Assert.True(result.HeldOutKlAfter < 0.7 * result.HeldOutKlBefore, $"held-out reverse KL {result.HeldOutKlBefore:F4} → {result.HeldOutKlAfter:F4}");
        Assert.Equal(8, File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Length);
        Assert.EndsWith("/sampler_weights/step-8", result.SamplerPath);
    }
}
