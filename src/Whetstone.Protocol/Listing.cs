namespace Whetstone.Protocol;

/// <summary>Where a page sits in a list, as Tinker's Cursor: the offset and limit asked for and
/// how many items the whole list holds.</summary>
public sealed record Cursor(int Offset, int Limit, int TotalCount);

/// <summary>The caller's checkpoints across all their runs, one page of them (Tinker's
/// list_user_checkpoints), newest first.</summary>
public sealed record UserCheckpointList(IReadOnlyList<CheckpointInfo> Checkpoints, Cursor Cursor);

/// <summary>What a checkpoint path holds (Tinker's weights info): the base model it adapts, and
/// whether it is a LoRA adapter (with its rank) or full weights.</summary>
public sealed record WeightsInfo(string BaseModel, bool IsLora, int? LoraRank)
{
    public bool TrainAttn { get; init; }
    public bool TrainMlp { get; init; }
    public bool TrainUnembed { get; init; }
}

/// <summary>Routes of the listing surface; lists page with ?limit=&amp;offset=.</summary>
public static class ListingRoutes
{
    /// <summary>The largest page a list returns.</summary>
    public const int MaxLimit = 1000;
    public const string UserCheckpoints = Routes.Prefix + "/user_checkpoints";   // GET ?limit=&offset=
    public const string Memories = Routes.Prefix + "/memories";                  // GET ?limit=&offset=
    public const string WeightsInfo = Routes.Prefix + "/weights_info";           // GET ?path=

    public static string Page(string route, int limit, int offset) => $"{route}?limit={limit}&offset={offset}";
}
