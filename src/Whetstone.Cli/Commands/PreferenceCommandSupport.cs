using Whetstone.Client;
using Whetstone.Cookbook.Evals;
using Whetstone.Engine.Runtime;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Cli.Commands;

/// <summary>What the preference and distillation commands share: model names and greedy held-out
/// accuracy of a base model or checkpoint.</summary>
internal static class PreferenceCommandSupport
{
    public static string ModelName(string directory) => Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/'));

    /// <summary>Held-out greedy accuracy per set, printed and returned.</summary>
    public static async Task<Dictionary<string, double>> AccuracyAsync(ServiceClient client, string modelDirectory, string? checkpoint,
        IEnumerable<string> sets, int count, CancellationToken cancellationToken)
    {
        var sampler = checkpoint is null
            ? await client.CreateSamplingClientAsync(baseModel: ModelName(modelDirectory), cancellationToken: cancellationToken)
            : await client.CreateSamplingClientAsync(modelPath: checkpoint, cancellationToken: cancellationToken);
        var tokenizer = HuggingFaceTokenizer.Load(modelDirectory);
        var accuracies = new Dictionary<string, double>();
        foreach (var set in sets)
        {
            var report = await Evaluator.RunAsync(sampler, tokenizer, set, count, cancellationToken: cancellationToken);
            accuracies[set] = report.Accuracy ?? double.NaN;
            Console.WriteLine($"  {checkpoint ?? ModelName(modelDirectory)}: {set} accuracy {report.Accuracy:P1} over {report.Examples}");
        }
        return accuracies;
    }
}
