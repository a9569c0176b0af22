using System.Text.Json;

namespace Whetstone.Cookbook.Recipes;

/// <summary>Where a training recipe got to: its last saved training state, so a rerun resumes there.</summary>
public sealed record RecipeProgress(string RunId, int Step, string StatePath)
{
    const string FileName = "progress.json";

    public static RecipeProgress? Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<RecipeProgress>(File.ReadAllText(path)) : null;
    }

    public void Save(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this));
        File.Move(temp, path, overwrite: true);
    }
}
