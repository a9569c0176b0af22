using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;
using Whetstone.Service.Auth;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Cluster;

/// <summary>One training run in the cluster, keyed by <see cref="RunGrainKey"/>. It lives on a
/// worker that hosts the run's base model and hands each call to that silo's own run service;
/// what crosses silos is the protocol's request and result records, never a tensor. Calls
/// return at once with the request id (the work queued in submission order); the result is
/// fetched with <see cref="Result"/>.</summary>
[Alias("whetstone.run")]
internal interface IRunGrain : IGrainWithStringKey
{
    [Alias("create")] Task<GrainAnswer> Create(Caller caller, P.CreateTrainingRunRequest request);
    [Alias("create_from_state")] Task<GrainAnswer> CreateFromState(Caller caller, P.CreateTrainingRunFromStateRequest request);
    [Alias("info")] Task<GrainAnswer> Info(Caller caller);
    [Alias("forward")] Task<GrainAnswer> Forward(Caller caller, P.ForwardBackwardRequest request, bool backward);
    [Alias("score")] Task<GrainAnswer> Score(Caller caller, P.ScoreRequest request);
    [Alias("optim_step")] Task<GrainAnswer> OptimStep(Caller caller, P.OptimStepRequest request);
    [Alias("save")] Task<GrainAnswer> Save(Caller caller, P.SaveStateRequest request, string kind);
    [Alias("load_state")] Task<GrainAnswer> LoadState(Caller caller, P.LoadStateRequest request);

    /// <summary>The future of a call submitted here, waiting up to <paramref name="wait"/>. A
    /// request this activation does not know was queued on a worker that died: failed, with
    /// code <see cref="WorkerLost"/>. Interleaves with submissions.</summary>
    [AlwaysInterleave, Alias("result")] Task<P.FutureResponse> Result(Caller caller, string requestId, TimeSpan wait);

    /// <summary>The silo this run lives on.</summary>
    [AlwaysInterleave, Alias("where")] Task<SiloAddress> Where();

    public const string WorkerLost = "worker_lost";
}
