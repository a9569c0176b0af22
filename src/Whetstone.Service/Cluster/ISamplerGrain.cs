using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;
using Whetstone.Service.Auth;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Cluster;

/// <summary>A sampling session in a cluster (key <c>base_model/session_id</c>, <see cref="RunGrainKey"/>),
/// placed like a run on a worker hosting its base model, where the session lives in that silo's
/// <c>SamplingSessionService</c>. What the session was made from (its tenant and checkpoint) is
/// kept on the shared data directory (<see cref="SamplerRecords"/>), so when its worker dies the
/// next call places the grain on another worker of the model, which opens the session again under
/// the same id (loading the adapter again).</summary>
[Alias("whetstone.sampler")]
internal interface ISamplerGrain : IGrainWithStringKey
{
    [Alias("create")] Task<GrainAnswer> Create(Caller caller, P.CreateSamplingSessionRequest request);
    [Alias("sample")] Task<GrainAnswer> Sample(Caller caller, P.SampleRequest request);
    [Alias("compute_logprobs")] Task<GrainAnswer> ComputeLogprobs(Caller caller, P.ComputeLogprobsRequest request);
    [Alias("close")] Task<GrainAnswer> Close(Caller caller);

    /// <summary>The future of a call submitted here (as <see cref="IRunGrain.Result"/>).</summary>
    [AlwaysInterleave, Alias("result")] Task<P.FutureResponse> Result(Caller caller, string requestId, TimeSpan wait);

    [AlwaysInterleave, Alias("where")] Task<SiloAddress> Where();
}
