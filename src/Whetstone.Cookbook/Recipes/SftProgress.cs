using System.Text.Json;

namespace Whetstone.Cookbook.Recipes;

/// <summary>Where an SFT run got to: its last saved training state, so a rerun resumes there.</summary>
public sealed record SftProgress(string RunId, int Step, string StatePath)
{
    const string FileName = "progress.json";

    public static SftProgress? Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<SftProgress>(File.ReadAllText(path)) : null;
    }

    public void Save(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this));
        File.Move(temp, path, overwrite: true);
    }
}
