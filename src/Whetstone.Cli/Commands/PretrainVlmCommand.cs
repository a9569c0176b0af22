using System.CommandLine;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Vision;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Runtime;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Cli.Commands;

/// <summary>`whet pretrain-vlm`: the zoo VLM (models/whet-vl-nano) from scratch — a tokenizer
/// learned on the scene questions, a random Qwen2.5-VL (Qwen2 LM + vision tower) of a small
/// shape, full-parameter pretraining through the SDK (in process) on generated shape scenes, a
/// held-out evaluation per question kind (OUT/eval.json), and the result as a Hugging Face
/// directory in OUT/model. Rerun the same command to resume.</summary>
internal static class PretrainVlmCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "Output directory (init/, service/, metrics.jsonl, eval.json, model/)", Required = true };
        var merges = new Option<int>("--merges") { Description = "Tokenizer merges to learn on the questions and answers", DefaultValueFactory = _ => 300 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 1000 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 3e-3 };
        var visionScale = new Option<double>("--vision-lr-scale") { Description = "The vision tower's learning rate as a fraction of --lr", DefaultValueFactory = _ => 0.1 };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 50 };
        var evalScenes = new Option<int>("--eval-scenes") { DefaultValueFactory = _ => 100 };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype: fp32, bf16 or auto", DefaultValueFactory = _ => "fp32" };
        var seed = new Option<long>("--seed");
        var device = DeviceOption.Create();
        var kinds = new Option<string>("--kinds") { Description = "Question kinds trained, comma-separated", DefaultValueFactory = _ => string.Join(",", SceneQuestions.Kinds) };
        var factEvery = new Option<int>("--fact-every") { Description = "One chat in this many is a text-only fact", DefaultValueFactory = _ => 8 };
        var tower = new Option<string>("--tower") { Description = "vit (a ViT trained from scratch, 84-pixel pictures) or resnet18 (frozen ImageNet ResNet18, 224-pixel pictures, one token each; only the projector and the LM train)", DefaultValueFactory = _ => "vit" };
        var command = new Command("pretrain-vlm", "Pretrain a small Qwen2.5-VL-layout model on generated shape scenes.")
        {
            tower, output, merges, steps, batch, lr, visionScale, warmup, evalScenes, dtype, device, seed, kinds, factEvery,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var computeDevice = DeviceOption.Resolve(result, device);
                bool frozen = result.GetValue(tower) switch
                {
                    "vit" => false, "resnet18" => true,
                    var other => throw new ArgumentException($"--tower: '{other}' is not vit or resnet18"),
                };
                var outputDirectory = Path.GetFullPath(result.GetValue(output)!);
                var init = Path.Combine(outputDirectory, "init");
                if (!File.Exists(Path.Combine(init, "config.json")))
                {
                    var learned = ByteLevelBpeTrainer.LearnMerges(SceneQuestions.TokenizerTexts(2000, 84), result.GetValue(merges), ByteLevelTokenizerStyle.ChatMlVision);
                    var shape = frozen ? Shape with { Vision = new RandomVisionSpec { FrozenEncoder = Engine.Models.Vision.FrozenEncoders.ResNet18 } } : Shape;
                    RandomModelWriter.Write(init, shape with { Merges = learned, Seed = result.GetValue(seed) });
                    Console.WriteLine($"initialised a Qwen2.5-VL layout model with a {learned.Count}-merge tokenizer in {init}");
                }
                await using var core = await InProcessService.StartAsync([init], outputDirectory, result.GetValue(dtype)!, computeDevice);
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
                var options = new VlmPretrainOptions
                {
                    BaseModel = "init", OutputDirectory = outputDirectory, Steps = result.GetValue(steps), BatchSize = result.GetValue(batch),
                    PeakLearningRate = result.GetValue(lr), VisionLearningRateScale = result.GetValue(visionScale), WarmupSteps = result.GetValue(warmup), Seed = result.GetValue(seed),
                    EvalScenes = result.GetValue(evalScenes),
                    ImageSize = frozen ? Engine.Models.Vision.FrozenEncoders.ResNet18Side : 84,
                    PixelsPerToken = frozen ? Engine.Models.Vision.FrozenEncoders.ResNet18Side : 28, FactEvery = result.GetValue(factEvery),
                    QuestionKinds = result.GetValue(kinds)!.Split(',').Select(k => SceneQuestions.Kinds.Contains(k) ? k : throw new ArgumentException($"--kinds: '{k}' is not one of {string.Join(", ", SceneQuestions.Kinds)}")).ToArray(), CheckpointEvery = Math.Max(50, result.GetValue(steps) / 5),
                };
                var (outcome, eval) = await VlmPretrainRecipe.RunAsync(client, HuggingFaceTokenizer.Load(init), options, Console.WriteLine, cancellationToken);
                File.WriteAllText(Path.Combine(outputDirectory, "eval.json"), JsonSerializer.Serialize(eval, new JsonSerializerOptions { WriteIndented = true }));
                var model = await WholeModelDownload.ToDirectoryAsync(client, outcome.SamplerPath, outputDirectory, cancellationToken);
                Console.WriteLine($"final answer loss {outcome.FinalLoss:F4} per token; model: {model}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or WhetstoneApiException or IOException)
            {
                return CommandErrors.Fail(CommandErrors.BadArguments, e.Message);
            }
        });
        return command;
    }

    /// <summary>whet-vl-nano's shape: a 4-layer Qwen2 LM of width 160 (heads of 40, M-RoPE split
    /// 5/7/8) under a 2-block tower of width 64 (14-pixel patches, 2×2 merge, 56-pixel windows,
    /// the second block full attention). About 1.5M parameters; stored in bf16.</summary>
    static readonly RandomModelSpec Shape = new()
    {
        Family = Engine.Models.ModelFamily.Qwen2, HiddenSize = 160, NumHiddenLayers = 4, NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 40,
        IntermediateSize = 480, MaxPositionEmbeddings = 512, StoredDtype = ScalarType.BFloat16,
        Vision = new RandomVisionSpec { Depth = 2, HiddenSize = 64, NumHeads = 2, IntermediateSize = 128, WindowSize = 56, FullAttBlockIndexes = [1] },
    };
}
