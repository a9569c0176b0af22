namespace Whetstone.Engine.Tests;

/// <summary>Where the repository's shipped models (models/whet-nano, whet-reader-nano, …) are: found
/// by walking up from the test binary to the folder that holds Whetstone.slnx, so the tests read the
/// checked-in weights from any build output path.</summary>
internal static class ShippedModels
{
    public static string Root { get; } = Path.Combine(RepositoryRoot(), "models");

    public static string Directory(string name) => Path.Combine(Root, name);

    static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Whetstone.slnx"))) return directory.FullName;
        throw new DirectoryNotFoundException($"no Whetstone.slnx above {AppContext.BaseDirectory}");
    }
}
