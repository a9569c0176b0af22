using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Whetstone.Cli.Tests;

/// <summary>`whet train sft` and `whet eval` in process: a short run reports its losses and a
/// sampler checkpoint that `eval` then scores; bad settings exit with 2 naming the option.</summary>
public class TrainAndEvalCommandTests
{
    [Fact]
    public void SftRunsReportsItsLossesAndEvalScoresTheCheckpointItWrote()
    {
        using var temp = new TempDirectory();
        Whet.Succeed("corpus", "-o", temp["train.jsonl"], "-n", "16", "--seed", "2", "--tasks", "instruction");
        Whet.Succeed("corpus", "-o", temp["held.jsonl"], "-n", "4", "--seed", "2", "--tasks", "instruction", "--held-out");
        var lines = Whet.Succeed("train", "sft", "-m", TinyModel.ModelDirectory, "--data", temp["train.jsonl"], "--held-out", temp["held.jsonl"],
            "-o", temp["run"], "--rank", "4", "--lr", "5e-3", "--batch-size", "4", "--steps", "3", "--eval-every", "3", "--dtype", "fp32", "--seed", "1")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);

        // The summary line agrees with metrics.jsonl, which has one record per step.
        var metrics = File.ReadAllLines(Path.Combine(temp["run"], "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal([1, 2, 3], metrics.Select(m => (int)m["step"]!));
        double first = (double)metrics[0]["loss"]!, last = (double)metrics[^1]["loss"]!, nll = (double)metrics[^1]["held_out_nll"]!;
        Assert.Contains($"loss {first:F4} → {last:F4} per token, held-out NLL {nll:F4}", lines);
        var checkpoint = lines.Single(l => l.StartsWith("sampler checkpoint: "))["sampler checkpoint: ".Length..];
        Assert.Matches("^whet://[^/]+/sampler_weights/final$", checkpoint);

        var report = Whet.Succeed("eval", "-m", TinyModel.ModelDirectory, "--checkpoint", checkpoint, "--service-data", Path.Combine(temp["run"], "service"),
            "--set", "nll", "-n", "4", "--dtype", "fp32");
        Assert.Matches(@"^nll +NLL \d+\.\d{4} per answer token over 4\n$", report);
    }

    static string RepositoryRoot()
    {
        var directory = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(directory, "Whetstone.slnx"))) directory = Path.GetDirectoryName(directory)!;
        return directory;
    }

    [Fact]
    public void EvalOfTheShippedModelGradesArithmeticAgainstTheTrueResult()
    {
        var lines = Whet.Succeed("eval", "-m", Path.Combine(RepositoryRoot(), "models", "whet-nano"), "--set", "arithmetic", "-n", "10", "--dtype", "fp32")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // whet-nano does most of the corpus's arithmetic: measured 70 % over these 10 (80 % over 100 in its README).
        var summary = Regex.Match(lines[0], @"^arithmetic +accuracy (\d+\.\d) % over 10$");
        Assert.True(summary.Success, lines[0]);
        Assert.True(double.Parse(summary.Groups[1].Value) >= 50, lines[0]);
        // Each sample shown is graded against the result worked out here from its question.
        Assert.Equal(3, lines.Length - 1);
        foreach (var sample in lines.Skip(1))
        {
            var question = Regex.Match(sample, @"What is (\d+) ([-+]) (\d+)\?");
            Assert.True(question.Success, sample);
            long a = long.Parse(question.Groups[1].Value), b = long.Parse(question.Groups[3].Value);
            long truth = question.Groups[2].Value == "+" ? a + b : a - b;
            var answer = Regex.Match(sample, @"Answer: (-?\d+) \((right|expected (-?\d+))\)$");
            Assert.True(answer.Success, sample);
            bool right = long.Parse(answer.Groups[1].Value) == truth;
            Assert.Equal(right ? "right" : $"expected {truth}", answer.Groups[2].Value);
        }
    }

    [Theory]
    [InlineData(new[] { "train", "sft", "--train-on", "everything" }, "--train-on 'everything' is not last_assistant, all_assistant or all")]
    [InlineData(new[] { "train", "sft" }, "does-not-exist.jsonl")]
    [InlineData(new[] { "eval", "--set", "poetry" }, "unknown eval set 'poetry'")]
    [InlineData(new[] { "train", "reward-model", "--loss", "hinge" }, "loss 'hinge' is not bradley_terry or binary_logistic")]
    [InlineData(new[] { "train", "rl", "--env", "chess" }, "unknown env 'chess'")]
    [InlineData(new[] { "train", "rl", "--loss-config", "clip=abc" }, "--loss-config 'clip=abc' is not key=number")]
    public void BadSettingsExitWith2NamingThem(string[] arguments, string message)
    {
        using var temp = new TempDirectory();
        string[] model = ["-m", TinyModel.ModelDirectory, "--dtype", "fp32"];
        string[] rest = arguments is ["train", "sft", ..] ? ["--data", temp["does-not-exist.jsonl"], "-o", temp["run"]]
            : arguments[0] == "train" ? ["-o", temp["run"]] : ["--service-data", temp["service"]];
        var outcome = Whet.Run([.. arguments, .. model, .. rest]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("error: ", outcome.Stderr);
        Assert.Contains(message, outcome.Stderr);
    }

    [Fact]
    public void AnUnknownRlLossIsRefusedBeforeAnythingRuns()
    {
        using var temp = new TempDirectory();
        var outcome = Whet.Run("train", "rl", "-m", TinyModel.ModelDirectory, "-o", temp["run"], "--loss", "reinforce");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("reinforce", outcome.Stderr);
        Assert.False(Directory.Exists(temp["run"]));
    }
}
