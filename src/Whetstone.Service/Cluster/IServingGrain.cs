using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;
using Whetstone.Service.Auth;

namespace Whetstone.Service.Cluster;

/// <summary>One serving slot of a base model (key <c>base_model/v1-N</c>, <see cref="ServingKey"/>),
/// placed like a run on a worker hosting that model. It answers /v1/chat/completions and
/// /v1/completions there, through that worker's own /v1 pipeline, so a cluster answers exactly as
/// one process does. What crosses silos is the request's JSON and the answer's bytes; never a
/// tensor. When its worker dies the slot's next call places it on a surviving worker of the model.</summary>
[Alias("whetstone.serving")]
internal interface IServingGrain : IGrainWithStringKey
{
    /// <summary>Serves <paramref name="body"/> (the request JSON as the client sent it) on
    /// <paramref name="route"/> as <paramref name="caller"/>, whole. Decoding can take minutes on
    /// CPU, longer than Orleans' default 30 s response timeout.</summary>
    [ResponseTimeout("00:15:00"), Alias("serve")]
    Task<ServedAnswer> Serve(Caller caller, string route, string body);

    /// <summary>As <see cref="Serve"/>, as the answer is written: first its head (status, content
    /// type, headers, no body), then each piece of its body as the worker's pipeline flushes it (one
    /// or a few SSE events of a streamed request). Orleans carries an <see cref="IAsyncEnumerable{T}"/>
    /// as repeated calls that each take what the worker has ready (a batch) or wait for the next
    /// piece, with heartbeats while decoding is slow, so no response timeout applies to the whole
    /// answer. Disposing the enumeration early (the client left) cancels the request on the worker.</summary>
    [Alias("serve_stream")]
    IAsyncEnumerable<ServedPart> ServeStream(Caller caller, string route, string body);

    [AlwaysInterleave, Alias("where")] Task<SiloAddress> Where();
}

/// <summary>A worker's /v1 answer as its pipeline wrote it: status, content type, the Whetstone
/// headers (e.g. Whetstone-Memory-Id) and the body (JSON, or the whole SSE stream of a streamed
/// request).</summary>
[GenerateSerializer, Immutable, Alias("whetstone.served_answer")]
internal sealed record ServedAnswer
{
    [Id(0)] public int Status { get; init; }
    [Id(1)] public string? ContentType { get; init; }
    [Id(2)] public Dictionary<string, string> Headers { get; init; } = [];
    [Id(3)] public byte[] Body { get; init; } = [];
}

/// <summary>A piece of a streamed answer (<see cref="IServingGrain.ServeStream"/>): the first
/// carries the head (<see cref="Status"/> set, no body), each later one bytes of the body.</summary>
[GenerateSerializer, Immutable, Alias("whetstone.served_part")]
internal sealed record ServedPart
{
    /// <summary>The HTTP status: set on the head only, 0 on body pieces.</summary>
    [Id(0)] public int Status { get; init; }
    [Id(1)] public string? ContentType { get; init; }
    [Id(2)] public Dictionary<string, string>? Headers { get; init; }
    [Id(3)] public byte[] Body { get; init; } = [];
}

/// <summary>Serving slot keys: the base model first, so <see cref="BaseModelPlacementDirector"/>
/// reads it as it does a run's (<see cref="RunGrainKey"/>).</summary>
internal static class ServingKey
{
    public static string Of(string baseModel, int slot) => RunGrainKey.Of(baseModel, $"v1-{slot}");
}
