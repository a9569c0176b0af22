using System.Diagnostics;
using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;
using Whetstone.Service.Serving;

namespace Whetstone.Service.OpenAi;

/// <summary>The served-completion log, both ways: the timings of one served request and its
/// entry written to the store (with the caller's token usage), and the store's records read
/// back as the protocol's <see cref="ServedCompletion"/> and <see cref="Feedback"/>.</summary>
internal sealed class ServedLog(OpenAiRequest request, Caller caller)
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    double? _firstToken;

    public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;

    public void FirstToken() => _firstToken ??= _clock.Elapsed.TotalSeconds;

    public async Task WriteAsync(ServiceContext context, string id, ServedTarget target, IReadOnlyList<int> prompt,
        IReadOnlyList<CompletionChoice> choices, Engine.Sampling.SamplingParams parameters)
    {
        var usage = new UsageTotals { PrefillTokens = prompt.Count, SampledTokens = choices.Sum(c => (long)c.Events.Count) };
        context.InBackground(() => context.Store.AddUsageAsync(caller.ApiKeyId, null, usage), "accounting a served completion");
        var sampling = new ServedParams(parameters.MaxTokens, parameters.Temperature, parameters.TopP, request.N, parameters.Seed ?? 0,
            request.Stop, request.Stream, request.Logprobs, request.TopLogprobs);
        var record = new ServedCompletionRecord(id, caller.Tenant, request.Chat ? "chat.completions" : "completions", request.Model, target.BaseModel, Created)
        {
            CheckpointPath = target.CheckpointPath,
            Deployment = target.Deployment,
            Arm = target.Arm,
            User = request.User,
            RequestJson = request.AsSent.GetRawText(),
            PromptTokensJson = JsonSerializer.Serialize(prompt),
            ChoicesJson = JsonSerializer.Serialize(choices.Select(c => c.ToServed()).ToArray(), ProtocolJson.Options),
            ParamsJson = JsonSerializer.Serialize(sampling, ProtocolJson.Options),
            LatencySeconds = _clock.Elapsed.TotalSeconds,
            TimeToFirstTokenSeconds = _firstToken,
        };
        await context.Store.InsertServedCompletionAsync(record, CancellationToken.None);
    }

    /// <summary>A log entry as the API and the export show it.</summary>
    public static ServedCompletion ToProtocol(ServedCompletionRecord r)
    {
        var asSent = JsonSerializer.Deserialize<JsonElement>(r.RequestJson);
        return new ServedCompletion(r.Id, r.Endpoint, r.Model, r.BaseModel, r.CreatedAt)
        {
            CheckpointPath = r.CheckpointPath,
            Deployment = r.Deployment,
            User = r.User,
            Prompt = r.Endpoint == "completions" ? asSent : null,
            Messages = r.Endpoint == "completions" ? null : asSent,
            PromptTokens = JsonSerializer.Deserialize<int[]>(r.PromptTokensJson)!,
            Choices = JsonSerializer.Deserialize<ServedChoice[]>(r.ChoicesJson, ProtocolJson.Options)!,
            Params = JsonSerializer.Deserialize<ServedParams>(r.ParamsJson, ProtocolJson.Options)!,
            LatencySeconds = r.LatencySeconds,
            TimeToFirstTokenSeconds = r.TimeToFirstTokenSeconds,
            Arm = r.Arm,
        };
    }

    public static Feedback ToProtocol(FeedbackRecord f) => new(f.Id, f.CompletionId, f.Kind, f.ChoiceIndex, f.CreatedAt)
    {
        Rating = f.Rating, Correction = f.Correction, RejectedCompletionId = f.RejectedCompletionId, Comment = f.Comment,
    };
}
