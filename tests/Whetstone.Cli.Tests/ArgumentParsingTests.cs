namespace Whetstone.Cli.Tests;

/// <summary>What the parser itself refuses — a missing required option, an unknown command or
/// option, a value of the wrong type — exits with 2 (bad arguments) and names it on stderr.</summary>
public class ArgumentParsingTests
{
    [Theory]
    [InlineData(new[] { "sample", "-p", "hi" }, "--model")]
    [InlineData(new[] { "keys", "create" }, "--tenant")]
    [InlineData(new[] { "corpus", "-n", "3" }, "--out")]
    [InlineData(new[] { "sample", "-m", "x", "-p", "hi", "--max-tokens", "many" }, "many")]
    [InlineData(new[] { "sample", "-m", "x", "-p", "hi", "--temprature", "0" }, "--temprature")]
    [InlineData(new[] { "sampel" }, "sampel")]
    public void ParseErrorsExitWith2NamingTheArgument(string[] arguments, string named)
    {
        var outcome = Whet.Run(arguments);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(named, outcome.Stderr);
    }

    [Fact]
    public void HelpListsTheCommandsAndSucceeds()
    {
        var help = Whet.Succeed("--help");
        foreach (var command in new[] { "info", "sample", "logprobs", "init-model", "merge", "export", "import", "serve", "keys", "train", "corpus", "eval", "pretrain", "chart" })
            Assert.Contains($"  {command} ", help);
    }
}
