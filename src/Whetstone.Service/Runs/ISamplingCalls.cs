using Whetstone.Service.Auth;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>Where the sampling-session routes send their calls: this process's
/// <see cref="SamplingSessionService"/>, or in a cluster the sampler grains (Cluster/ClusterSamplingCalls).</summary>
internal interface ISamplingCalls
{
    Task<P.SamplingSessionInfo> CreateAsync(Caller caller, P.CreateSamplingSessionRequest request);
    Task<P.UntypedFuture> SampleAsync(Caller caller, string sessionId, P.SampleRequest request);
    Task<P.UntypedFuture> ComputeLogprobsAsync(Caller caller, string sessionId, P.ComputeLogprobsRequest request);
    Task CloseAsync(Caller caller, string sessionId);
}
