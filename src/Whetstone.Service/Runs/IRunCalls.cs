using Whetstone.Service.Auth;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>The calls the training routes make on a run. One process answers them itself
/// (<see cref="TrainingRunService"/>); a cluster gateway hands them to the run's grain on the
/// worker that hosts it (Cluster/ClusterRunCalls).</summary>
internal interface IRunCalls
{
    Task<P.TrainingRunInfo> CreateAsync(Caller caller, P.CreateTrainingRunRequest request);
    Task<P.TrainingRunInfo> CreateFromStateAsync(Caller caller, P.CreateTrainingRunFromStateRequest request);
    Task<P.TrainingRunInfo> InfoAsync(Caller caller, string runId);
    Task<P.UntypedFuture> ForwardAsync(Caller caller, string runId, P.ForwardBackwardRequest request, bool backward);
    Task<P.UntypedFuture> ScoreAsync(Caller caller, string runId, P.ScoreRequest request);
    Task<P.UntypedFuture> OptimStepAsync(Caller caller, string runId, P.OptimStepRequest request);
    Task<P.UntypedFuture> SaveAsync(Caller caller, string runId, P.SaveStateRequest request, string kind);
    Task<P.UntypedFuture> LoadStateAsync(Caller caller, string runId, P.LoadStateRequest request);
}
