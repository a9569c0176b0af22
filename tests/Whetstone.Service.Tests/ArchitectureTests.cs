using System.Xml.Linq;

namespace Whetstone.Service.Tests;

/// <summary>The dependency graph of src/ (docs/ARCHITECTURE.md, STYLE.md), read from the project
/// files: every reference must be an allowed edge, and the layering rules hold transitively.</summary>
public class ArchitectureTests
{
    /// <summary>Every project under src/ and the projects it may reference. A new project fails the
    /// test until it is placed here.</summary>
    static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Whetstone.Protocol"] = [],
        ["Whetstone.Tokenization"] = [],
        ["Whetstone.Engine"] = ["Whetstone.Tokenization"],
        ["Whetstone.Chat"] = ["Whetstone.Tokenization"],
        ["Whetstone.Client"] = ["Whetstone.Protocol"],
        ["Whetstone.Cookbook"] = ["Whetstone.Client", "Whetstone.Chat", "Whetstone.Tokenization"],
        ["Whetstone.Service"] = ["Whetstone.Engine", "Whetstone.Protocol", "Whetstone.Chat"],
        // The CLI hosts the service in-process (`whet serve`, the recipes' in-memory transport).
        ["Whetstone.Cli"] = ["Whetstone.Cookbook", "Whetstone.Client", "Whetstone.Service", "Whetstone.Engine"],
    };

    /// <summary>Each src/ project and the project names its ProjectReference items point at.</summary>
    internal static Dictionary<string, string[]> ReadGraph(string root) =>
        Directory.GetFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories).ToDictionary(
            path => Path.GetFileNameWithoutExtension(path),
            path => XDocument.Load(path).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
                .Order().ToArray());

    static HashSet<string> Closure(Dictionary<string, string[]> graph, string project)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>(graph[project]);
        while (pending.TryPop(out var next))
            if (seen.Add(next) && graph.TryGetValue(next, out var more)) foreach (var m in more) pending.Push(m);
        return seen;
    }

    [Fact]
    public void TheGraphIsReadFromEverySourceProject()
    {
        var graph = ReadGraph(RepositoryRoot.Path);
        Assert.Equal(Allowed.Keys.Order(), graph.Keys.Order());
        // The reader sees real edges (a parser that found none would let every rule pass).
        Assert.Equal(["Whetstone.Chat", "Whetstone.Engine", "Whetstone.Protocol"], graph["Whetstone.Service"]);
    }

    /// <summary>Every broken rule of a graph, in words; empty when it is right.</summary>
    internal static List<string> Violations(Dictionary<string, string[]> graph)
    {
        var found = new List<string>();
        foreach (var (from, targets) in graph)
            foreach (var to in targets.Where(t => !Allowed.GetValueOrDefault(from, []).Contains(t)))
                found.Add($"{from} -> {to} is not an allowed edge");
        var service = Closure(graph, "Whetstone.Service");
        foreach (var banned in new[] { "Whetstone.Cookbook", "Whetstone.Client", "Whetstone.Cli" })
            if (service.Contains(banned)) found.Add($"Whetstone.Service reaches {banned}");
        foreach (var (from, targets) in graph)
        {
            if (targets.Contains("Whetstone.Cli")) found.Add($"{from} depends on Whetstone.Cli");
            if (from != "Whetstone.Cli" && targets.Contains("Whetstone.Cookbook")) found.Add($"{from} depends on Whetstone.Cookbook");
        }
        if (Closure(graph, "Whetstone.Engine").Intersect(["Whetstone.Service", "Whetstone.Client", "Whetstone.Chat", "Whetstone.Protocol"]).Any())
            found.Add("Whetstone.Engine reaches a layer above it");
        return found;
    }

    [Fact]
    public void TheSourceGraphBreaksNoRule()
    {
        var violations = Violations(ReadGraph(RepositoryRoot.Path));
        Assert.True(violations.Count == 0, string.Join("; ", violations));
    }

    [Theory]
    [InlineData("Whetstone.Service", "Whetstone.Cookbook")]   // the edge this test was written to remove
    [InlineData("Whetstone.Service", "Whetstone.Client")]
    [InlineData("Whetstone.Chat", "Whetstone.Cookbook")]     // reaches Client from Service through Chat
    [InlineData("Whetstone.Protocol", "Whetstone.Cli")]
    [InlineData("Whetstone.Engine", "Whetstone.Protocol")]
    public void AWrongEdgeIsCaught(string from, string to)
    {
        var graph = ReadGraph(RepositoryRoot.Path);
        graph[from] = [.. graph[from], to];
        Assert.NotEmpty(Violations(graph));
    }
}
