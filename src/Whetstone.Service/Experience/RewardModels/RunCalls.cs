using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;
using Whetstone.Service.Scheduling;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>The reward model's calls on its training run, made like any client's (queued on the
/// base model's engine worker, in the run's order) and awaited to their results.</summary>
internal sealed class RunCalls(ServiceContext context, TrainingRunService runs, Caller caller, string runId)
{
    public async Task<IReadOnlyList<double>> ScoreAsync(IReadOnlyList<IReadOnlyList<int>> sequences, CancellationToken ct) =>
        (await ResultAsync<ScoreOutput>(await runs.ScoreAsync(caller, runId, new ScoreRequest(sequences.Select(ModelInput.FromTokens).ToArray())), ct)).Values;

    public async Task<ForwardBackwardOutput> ForwardBackwardAsync(IReadOnlyList<Datum> data, string loss, CancellationToken ct) =>
        await ResultAsync<ForwardBackwardOutput>(await runs.ForwardAsync(caller, runId, new ForwardBackwardRequest(data, loss), backward: true), ct);

    public async Task<OptimStepOutput> OptimStepAsync(double learningRate, CancellationToken ct) =>
        await ResultAsync<OptimStepOutput>(await runs.OptimStepAsync(caller, runId, new OptimStepRequest(new AdamParams { LearningRate = learningRate })), ct);

    public async Task<string> SaveStateAsync(string name, CancellationToken ct) =>
        (await ResultAsync<SaveStateOutput>(await runs.SaveAsync(caller, runId, new SaveStateRequest(name), CheckpointPath.Weights), ct)).Path;

    public async Task LoadStateAsync(string path, CancellationToken ct) =>
        await ResultAsync<SaveStateOutput>(await runs.LoadStateAsync(caller, runId, new LoadStateRequest(path) { WithOptimizer = true }), ct);

    async Task<T> ResultAsync<T>(UntypedFuture future, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();   // the long-poll itself returns "pending" when cancelled
            var response = await context.Futures.WaitAsync(future.RequestId, caller, TimeSpan.FromSeconds(30), ct);
            switch (response.Status)
            {
                case FutureStatus.Done: return response.Result!.Value.Deserialize<T>(ProtocolJson.Options)!;
                case FutureStatus.Failed:
                    throw new ApiError(System.Net.HttpStatusCode.InternalServerError, response.Error!.Code,
                        $"reward model run {runId}: {response.Error.Message}", response.Error.Field);
            }
        }
    }
}
