using System.CommandLine;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Vision;
using Whetstone.Engine.Runtime;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>`whet few-shot-vision`: the few-shot comparison of FewShotRecipe against a VLM
/// directory (models/whet-vl-nano), served in process; one JSON line per measured point to
/// --out and a table of mean accuracy per arm and N on stdout.</summary>
internal static class FewShotVisionCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "VLM directory (Qwen2.5-VL layout)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "JSONL file of every point", Required = true };
        var shots = new Option<string>("--shots") { Description = "Shots per class, comma-separated (0: the VLM zero-shot)", DefaultValueFactory = _ => "0,1,2,4,8,16" };
        var seeds = new Option<int>("--seeds") { DefaultValueFactory = _ => 2 };
        var testPerClass = new Option<int>("--test-per-class") { DefaultValueFactory = _ => 10 };
        var steps = new Option<int>("--steps") { Description = "LoRA steps per fine-tune", DefaultValueFactory = _ => 20 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-2 };
        var rank = new Option<int>("--rank") { DefaultValueFactory = _ => 8 };
        var device = DeviceOption.Create();
        var command = new Command("few-shot-vision", "Few-shot shape classification: the VLM with LoRA against ResNet18 features with a head.")
        {
            model, output, shots, seeds, testPerClass, steps, lr, rank, device,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                var directory = Path.GetFullPath(result.GetValue(model)!);
                var dataDirectory = Path.Combine(Path.GetTempPath(), "whet-few-shot-" + Guid.NewGuid().ToString("N"));
                await using var core = await ServiceCore.CreateAsync(new ServerOptions
                {
                    ModelDirectories = [directory], DataDirectory = dataDirectory, ComputeDtype = ComputeDtype.Parse("fp32", computeDevice), Device = computeDevice,
                });
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                using var resnet = ResNet18Features.TryLoad();
                if (resnet is null) Console.WriteLine("ResNet18 ONNX models not found next to the program: the baseline arms are skipped");
                // A frozen-ResNet18 tower reads a 224-pixel picture as one token (the baseline's features).
                bool frozen = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))?["vision_config"]?["whet_frozen_encoder"] is not null;
                int side = frozen ? Engine.Models.Vision.FrozenEncoders.ResNet18Side : 84;
                var options = new FewShotVlmOptions
                {
                    ImageSize = side, PixelsPerToken = frozen ? side : 28,
                    BaseModel = Path.GetFileName(directory), Steps = result.GetValue(steps), LearningRate = result.GetValue(lr), Rank = result.GetValue(rank),
                };
                var counts = result.GetValue(shots)!.Split(',').Select(int.Parse).ToArray();
                await using var jsonl = new StreamWriter(result.GetValue(output)!, append: true);
                var points = await FewShotRecipe.RunAsync(client, new ImageChat(HuggingFaceTokenizer.Load(directory)), resnet, options, counts,
                    result.GetValue(seeds), result.GetValue(testPerClass), p =>
                    {
                        jsonl.WriteLine(JsonSerializer.Serialize(p));
                        jsonl.Flush();
                        Console.WriteLine($"{p.Arm,-18} N={p.ShotsPerClass,-3} seed {p.Seed}: {p.Accuracy:P1} of {p.TestImages}; answers "
                            + string.Join(", ", p.Answers.Select(a => $"{(a.Key.Length == 0 ? "(empty)" : a.Key)} {a.Value}")));
                    }, cancellationToken);
                Console.WriteLine("| arm | " + string.Join(" | ", counts.Select(n => $"N={n}")) + " |");
                foreach (var arm in points.Select(p => p.Arm).Distinct())
                    Console.WriteLine($"| {arm} | " + string.Join(" | ", counts.Select(n => points.Where(p => p.Arm == arm && p.ShotsPerClass == n).ToArray() is { Length: > 0 } a
                        ? $"{a.Average(p => p.Accuracy):P1}" : "–")) + " |");
                Directory.Delete(dataDirectory, recursive: true);
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or WhetstoneApiException or IOException or FormatException)
            {
                return CommandErrors.Fail(CommandErrors.BadArguments, e.Message);
            }
        });
        return command;
    }
}
