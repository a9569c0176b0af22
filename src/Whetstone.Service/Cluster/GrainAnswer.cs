using System.Net;
using System.Text.Json;
using Orleans;
using Whetstone.Protocol;
using Whetstone.Service.Scheduling;

namespace Whetstone.Service.Cluster;

/// <summary>A run grain's answer: the protocol record the local service returned, as its JSON,
/// or the error it threw (status, code, message, field), which the gateway throws again as the
/// same <see cref="ApiError"/>, so a cluster answers exactly as one process does.</summary>
[GenerateSerializer, Immutable, Alias("whetstone.grain_answer")]
internal sealed record GrainAnswer
{
    [Id(0)] public string? Json { get; init; }
    [Id(1)] public int Status { get; init; }
    [Id(2)] public string? Code { get; init; }
    [Id(3)] public string? Message { get; init; }
    [Id(4)] public string? Field { get; init; }

    public static async Task<GrainAnswer> Of<T>(Func<Task<T>> call)
    {
        try
        {
            return new GrainAnswer { Json = JsonSerializer.Serialize(await call(), ProtocolJson.Options) };
        }
        catch (Exception error)
        {
            var detail = RequestFutures.Describe(error);
            return new GrainAnswer { Status = (int)RequestFutures.StatusOf(error), Code = detail.Code, Message = detail.Message, Field = detail.Field };
        }
    }

    public T Value<T>()
    {
        if (Json is null) throw new ApiError((HttpStatusCode)Status, Code ?? "internal_error", Message ?? "the worker answered without a result", Field);
        return JsonSerializer.Deserialize<T>(Json, ProtocolJson.Options)!;
    }
}
