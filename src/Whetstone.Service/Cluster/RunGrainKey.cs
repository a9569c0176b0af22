namespace Whetstone.Service.Cluster;

/// <summary>A run grain's key names its base model beside the run id, so the placement director
/// can choose a worker hosting that model from the key alone (also on re-placement after a
/// worker died, when no caller context survives).</summary>
internal static class RunGrainKey
{
    const char Separator = '/';

    public static string Of(string baseModel, string runId) => baseModel + Separator + runId;

    public static (string BaseModel, string RunId) Parse(string key)
    {
        int cut = key.LastIndexOf(Separator);
        if (cut <= 0 || cut == key.Length - 1) throw new FormatException($"run grain key '{key}' is not base_model/run_id");
        return (key[..cut], key[(cut + 1)..]);
    }
}
