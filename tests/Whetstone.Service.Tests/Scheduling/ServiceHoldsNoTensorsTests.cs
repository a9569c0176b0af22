using System.Text.RegularExpressions;

namespace Whetstone.Service.Tests.Scheduling;

/// <summary>The service plans and the engine worker computes: no tensor, network, model or adapter
/// type may appear in Whetstone.Service's source (issue #13).</summary>
public class ServiceHoldsNoTensorsTests
{
    static readonly Regex EngineTensorTypes = new(@"\b(Tensor|PretrainedModel|LoraAdapter|CausalLanguageModel|TrainingRun|DecodeBatch|KvCache)\b");

    [Fact]
    public void NoServiceSourceFileNamesATensorType()
    {
        string root = RepositoryRoot.Path;
        var files = Directory.GetFiles(Path.Combine(root, "src", "Whetstone.Service"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")).ToArray();
        Assert.True(files.Length > 50, $"read {files.Length} files");   // the scan saw the service
        var hits = files.SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            // Route names such as Routes.TrainingRun are protocol, not the engine type.
            .Where(x => EngineTensorTypes.IsMatch(x.line.Replace("Routes.TrainingRun", "")))
            .Select(x => $"{Path.GetRelativePath(root, x.f)}:{x.i + 1}: {x.line.Trim()}").ToArray();
        Assert.Empty(hits);
    }
}
