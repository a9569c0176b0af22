namespace Whetstone.Service.Tests;

/// <summary>The repository's root: the folder above the test binary that holds Whetstone.slnx, so
/// tests read checked-in sources and results from any build output path.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Whetstone.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no Whetstone.slnx above {AppContext.BaseDirectory}");
    }
}
