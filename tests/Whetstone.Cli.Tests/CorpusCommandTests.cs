using System.Text.Json.Nodes;

namespace Whetstone.Cli.Tests;

/// <summary>`whet corpus`: deterministic chat JSONL, a held-out split that shares no question
/// with the training split, and a task filter.</summary>
public class CorpusCommandTests
{
    static JsonObject[] Lines(string path) => File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();

    static string Question(JsonObject line) => (string)line["messages"]![0]!["content"]!;

    [Fact]
    public void TheSameSeedWritesTheSameFileAndAnotherSeedAnother()
    {
        using var temp = new TempDirectory();
        Whet.Succeed("corpus", "-o", temp["a.jsonl"], "-n", "30", "--seed", "3");
        Whet.Succeed("corpus", "-o", temp["b.jsonl"], "-n", "30", "--seed", "3");
        Whet.Succeed("corpus", "-o", temp["c.jsonl"], "-n", "30", "--seed", "4");
        Assert.Equal(File.ReadAllBytes(temp["a.jsonl"]), File.ReadAllBytes(temp["b.jsonl"]));
        Assert.NotEqual(File.ReadAllBytes(temp["a.jsonl"]), File.ReadAllBytes(temp["c.jsonl"]));

        var lines = Lines(temp["a.jsonl"]);
        Assert.Equal(30, lines.Length);
        foreach (var line in lines)
        {
            var roles = line["messages"]!.AsArray().Select(m => (string)m!["role"]!).ToArray();
            Assert.Equal("user", roles[0]);
            Assert.Equal("assistant", roles[^1]);
            Assert.Contains((string)line["task"]!, new[] { "arithmetic", "instruction", "story", "reading" });
        }
        // The default mix has every pretraining task in it.
        Assert.Equal(4, lines.Select(l => (string)l["task"]!).Distinct().Count());
    }

    [Fact]
    public void HeldOutQuestionsAreNeverTrainingQuestionsAndTasksFilter()
    {
        using var temp = new TempDirectory();
        Whet.Succeed("corpus", "-o", temp["train.jsonl"], "-n", "400", "--seed", "1", "--tasks", "arithmetic");
        Whet.Succeed("corpus", "-o", temp["held.jsonl"], "-n", "40", "--seed", "1", "--tasks", "arithmetic", "--held-out");
        var train = Lines(temp["train.jsonl"]);
        var held = Lines(temp["held.jsonl"]);
        Assert.All(train.Concat(held), l => Assert.Equal("arithmetic", (string)l["task"]!));
        Assert.Empty(train.Select(Question).Intersect(held.Select(Question)));
        // The answer is the last line of the reply: "Answer: <answer>".
        Assert.All(held, l => Assert.EndsWith($"Answer: {(string)l["answer"]!}", (string)l["messages"]!.AsArray()[^1]!["content"]!));
    }

    [Fact]
    public void AnUnknownTaskExitsWith2NamingIt()
    {
        using var temp = new TempDirectory();
        var outcome = Whet.Run("corpus", "-o", temp["x.jsonl"], "-n", "3", "--tasks", "arithmetic,poetry");
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("error: unknown task 'poetry'", outcome.Stderr);
    }
}
