using System.CommandLine;
using Whetstone.Client;
using Whetstone.Cookbook.Distillation;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet train distill`: on-policy distillation of a student model toward a teacher
/// model (same tokenizer), in process, with held-out reverse KL and greedy accuracy.</summary>
internal static class TrainDistillCommand
{
    public static Command Create()
    {
        var studentModel = new Option<string>("--student") { Description = "Student base model directory", Required = true };
        var teacherModel = new Option<string>("--teacher") { Description = "Teacher model directory (same tokenizer)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output directory (metrics.jsonl, summary.json, service data)", Required = true };
        var rank = new Option<int>("--rank") { DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-3 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 30 };
        var prompts = new Option<int>("--prompts-per-step") { DefaultValueFactory = _ => 8 };
        var samples = new Option<int>("--samples-per-prompt") { DefaultValueFactory = _ => 2 };
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 96 };
        var heldOut = new Option<int>("--held-out-prompts") { DefaultValueFactory = _ => 32 };
        var evalEvery = new Option<int>("--eval-every") { DefaultValueFactory = _ => 10 };
        var tasks = new Option<string>("--tasks") { DefaultValueFactory = _ => "arithmetic,instruction" };
        var evalCount = new Option<int>("--eval-count") { Description = "Held-out greedy accuracy examples per task for student, teacher and distilled student (0: skip)", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "auto" };
        var device = DeviceOption.Create();
        var seed = new Option<long>("--seed");
        var command = new Command("distill", "On-policy distillation: the student samples, the teacher scores each token, advantage = −(log q_student − log p_teacher).")
        {
            studentModel, teacherModel, output, rank, lr, steps, prompts, samples, maxTokens, heldOut, evalEvery, tasks, evalCount, dtype, device, seed,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                var studentDirectory = result.GetValue(studentModel)!;
                var teacherDirectory = result.GetValue(teacherModel)!;
                if (PreferenceCommandSupport.ModelName(studentDirectory) == PreferenceCommandSupport.ModelName(teacherDirectory))
                    throw new ArgumentException("--student and --teacher must be different models (directories with different names)");
                // Token-level advantages compare the two models' logprobs of the same token ids.
                if (!File.ReadAllBytes(Path.Combine(studentDirectory, "tokenizer.json")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(teacherDirectory, "tokenizer.json"))))
                    throw new ArgumentException("--student and --teacher have different tokenizers; on-policy distillation compares logprobs of the same tokens");
                var outputDirectory = result.GetValue(output)!;
                var taskList = result.GetValue(tasks)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                await using var core = await InProcessService.StartAsync([studentDirectory, teacherDirectory], outputDirectory, result.GetValue(dtype)!, computeDevice);
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                var outcome = await OnPolicyDistillation.RunAsync(client, HuggingFaceTokenizer.Load(studentDirectory), new DistillationOptions
                {
                    StudentModel = PreferenceCommandSupport.ModelName(studentDirectory), TeacherModel = PreferenceCommandSupport.ModelName(teacherDirectory),
                    OutputDirectory = outputDirectory, Rank = result.GetValue(rank), LearningRate = result.GetValue(lr), Steps = result.GetValue(steps),
                    PromptsPerStep = result.GetValue(prompts), SamplesPerPrompt = result.GetValue(samples), MaxTokens = result.GetValue(maxTokens),
                    HeldOutPrompts = result.GetValue(heldOut), EvaluateEvery = result.GetValue(evalEvery), Tasks = taskList, Seed = result.GetValue(seed),
                }, Console.WriteLine, cancellationToken);
                Console.WriteLine($"held-out reverse KL(student ‖ teacher) {outcome.HeldOutKlBefore:F4} → {outcome.HeldOutKlAfter:F4} nats/token");
                Console.WriteLine($"student sampler checkpoint: {outcome.SamplerPath}");
                if (result.GetValue(evalCount) is int count and > 0)
                {
                    await PreferenceCommandSupport.AccuracyAsync(client, studentDirectory, null, taskList, count, cancellationToken);
                    await PreferenceCommandSupport.AccuracyAsync(client, teacherDirectory, null, taskList, count, cancellationToken);
                    await PreferenceCommandSupport.AccuracyAsync(client, studentDirectory, outcome.SamplerPath, taskList, count, cancellationToken);
                }
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidOperationException or WhetstoneApiException)
            {
                return CommandErrors.Fail(CommandErrors.BadArguments, e.Message);
            }
        });
        return command;
    }
}
