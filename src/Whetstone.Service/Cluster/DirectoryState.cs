using Orleans;

namespace Whetstone.Service.Cluster;

/// <summary>The directory's stored part (grain storage "whetstone": PostgreSQL through ADO.NET in
/// a PostgreSQL cluster): which models each worker hosts. Loads are soft state, rebuilt from the
/// next reports, so they are never written.</summary>
[GenerateSerializer, Alias("whetstone.directory_state")]
internal sealed class DirectoryState
{
    /// <summary>Worker silo (SiloAddress.ToParsableString) → its base models.</summary>
    [Id(0)] public Dictionary<string, string[]> Models { get; set; } = [];
}
