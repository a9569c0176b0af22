namespace Whetstone.Cli.Tests;

/// <summary>The loop's measurements (the main job's before/after, the three-arm experiment) serve
/// with a fixed fp32 dtype: with `--dtype auto` the start-up probe chose differently on a loaded
/// machine and the same v1 measured 0.521 in one run and 0.625 in the next.</summary>
public class LoopScriptsTests
{
    static string Root()
    {
        string directory = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(directory, "Whetstone.slnx"))) directory = Path.GetDirectoryName(directory)!;
        return directory;
    }

    [Theory]
    [InlineData("scripts/main-job.sh")]
    [InlineData("scripts/loop-experiment.sh")]
    public void TheLoopScriptsServeInFp32(string script)
    {
        var serve = File.ReadAllLines(Path.Combine(Root(), script)).Where(l => l.TrimStart().StartsWith("serve_in_background", StringComparison.Ordinal)).ToArray();
        Assert.Single(serve);
        Assert.EndsWith("--dtype fp32", serve[0].Trim());
        // … and the helper hands the extra arguments on to `whet serve`.
        var helper = File.ReadAllText(Path.Combine(Root(), "scripts/lib/serve-background.sh"));
        Assert.Contains("--urls \"http://127.0.0.1:$port\" \"$@\" &", helper);
    }
}
