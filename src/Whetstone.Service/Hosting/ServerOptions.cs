using static TorchSharp.torch;

namespace Whetstone.Service.Hosting;

/// <summary>How `whet serve` is configured.</summary>
public sealed record ServerOptions
{
    /// <summary>Hugging Face model directories to serve; each is named by its directory name.</summary>
    public required IReadOnlyList<string> ModelDirectories { get; init; }
    /// <summary>Checkpoints, downloads and (by default) the SQLite database live here.</summary>
    public required string DataDirectory { get; init; }
    /// <summary>Null: SQLite under the data directory; else a PostgreSQL connection string or "sqlite:PATH".</summary>
    public string? Database { get; init; }
    public IReadOnlyList<string> Urls { get; init; } = ["http://127.0.0.1:8000"];
    public ScalarType ComputeDtype { get; init; } = ScalarType.Float32;
    /// <summary>Where the base models and everything on them live (<c>--device</c>, resolved by
    /// Whetstone.Engine.Runtime.ComputeDevice.Parse, which refuses an absent CUDA).</summary>
    public Device Device { get; init; } = CPU;
    /// <summary>Queued calls per base model before new ones get 429.</summary>
    public int QueueCapacity { get; init; } = 1024;
    /// <summary>The admin key to accept (WHET_ADMIN_KEY); when null and none exists, one is made and printed once.</summary>
    public string? AdminKey { get; init; }
    /// <summary>Memory for the adapters served requests name; past it, idle adapters are evicted, least recently used first.</summary>
    public long AdapterCacheBytes { get; init; } = 1L << 30;
    /// <summary>How training and decoding share each base model's worker, and decoding its callers.</summary>
    public Scheduling.SchedulingOptions Scheduling { get; init; } = new();
    public TimeSpan ExpirySweepInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>How often the loop runner looks at the loops (zero: loops never run).</summary>
    public TimeSpan LoopTickInterval { get; init; } = TimeSpan.FromSeconds(2);
}
