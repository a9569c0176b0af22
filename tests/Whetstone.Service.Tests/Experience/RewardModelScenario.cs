using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Auth;
using Whetstone.Service.Experience.RewardModels;
using Whetstone.Service.Persistence;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Experience;

/// <summary>A tenant on an in-memory test server with a deployment and its reward model, and
/// served answers made to order: written to the completion log as the deployment's (so the
/// reward model's learning signal is known: "good" answers end in token 7, "bad" ones in 9),
/// with feedback posted through the real feedback service.</summary>
internal sealed class RewardModelScenario : IAsyncDisposable
{
    public const string Deployment = "assistant";
    public const int Good = 7, Bad = 9;

    readonly bool _ownsServer;
    public TestHost Server { get; }
    public string Tenant { get; }
    public Caller Caller { get; }
    public RewardModelService Models => Server.Core.RewardModels;
    public IMetadataStore Store => Server.Core.Store;

    RewardModelScenario(TestHost server, string tenant, bool ownsServer)
    {
        Server = server;
        Tenant = tenant;
        Caller = new Caller(tenant, "test:" + tenant, IsAdmin: false);
        _ownsServer = ownsServer;
    }

    /// <summary>Fast-learning settings for tests: updates only when asked.</summary>
    public static RewardModelSettings Settings(double userCap = 1, double replay = 0, int steps = 4, double learningRate = 2e-2, int batch = 128) => new()
    {
        Rank = 4, Seed = 3, BatchEvents = batch, AutoUpdate = false, ReplayFraction = replay, UserCap = userCap, StepsPerUpdate = steps, LearningRate = learningRate,
    };

    public static async Task<RewardModelScenario> StartAsync(string tenant = "rita", string? dataDirectory = null, RewardModelSettings? settings = null,
        bool createModel = true)
    {
        var server = await TestServers.StartAsync(dataDirectory, Transport.InMemory);
        var scenario = new RewardModelScenario(server, tenant, ownsServer: true);
        if (createModel) await scenario.CreateAsync(Deployment, settings ?? Settings());
        return scenario;
    }

    /// <summary>Another tenant on the same server.</summary>
    public RewardModelScenario Tenant2(string tenant) => new(Server, tenant, ownsServer: false);

    public async Task CreateAsync(string deployment, RewardModelSettings settings)
    {
        await Server.Core.Deployments.CreateAsync(Caller, new CreateDeploymentRequest(deployment));
        await Models.CreateAsync(Caller, deployment, new CreateRewardModelRequest { BaseModel = TestServers.ModelName, Settings = settings });
    }

    public static int[] Prompt(int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, 4 + seed % 3).Select(_ => random.Next(20, 200))];
    }

    public static int[] Answer(int seed, bool good)
    {
        var random = new Random(seed * 31 + 1);
        return [.. Enumerable.Range(0, 3 + seed % 2).Select(_ => random.Next(20, 200)), good ? Good : Bad];
    }

    /// <summary>A completion served by deployment@v1 to <paramref name="user"/>, logged as the serving path logs it
    /// (cut off at max_tokens unless <paramref name="finishReason"/> says otherwise).</summary>
    public async Task<string> ServedAsync(int[] prompt, int[] answer, string? user = null, string deployment = Deployment, string finishReason = "length")
    {
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        var choice = new ServedChoice(0, answer, answer.Select(_ => -1f).ToArray(), "", finishReason);
        await Store.InsertServedCompletionAsync(new ServedCompletionRecord(id, Tenant, "completions", $"{deployment}@latest", TestServers.ModelName, DateTimeOffset.UtcNow)
        {
            Deployment = $"{deployment}@v1",
            User = user,
            RequestJson = "\"test prompt\"",
            PromptTokensJson = JsonSerializer.Serialize(prompt),
            ChoicesJson = JsonSerializer.Serialize(new[] { choice }, ProtocolJson.Options),
            ParamsJson = JsonSerializer.Serialize(new ServedParams(16, 1, 1, 1, 0, [], false, false, 0), ProtocolJson.Options),
        });
        return id;
    }

    public async Task<string> FeedbackAsync(FeedbackRequest request) => (await Server.Core.Feedback.SubmitAsync(Caller, request)).Id;

    public Task<string> ThumbsAsync(string completionId, bool up) =>
        FeedbackAsync(new FeedbackRequest { CompletionId = completionId, Type = up ? "thumbs_up" : "thumbs_down" });

    public Task<IReadOnlyList<double>> ScoreAsync(IEnumerable<(int[] Prompt, int[] Answer)> pairs, string deployment = Deployment) =>
        Models.ScoreAsync(Caller, deployment, pairs.Select(p => ((IReadOnlyList<int>)p.Prompt, (IReadOnlyList<int>)p.Answer)).ToArray());

    public Task<RewardModelUpdate?> UpdateAsync(string deployment = Deployment) => Models.UpdateNowAsync(Caller, deployment);

    public async ValueTask DisposeAsync()
    {
        if (_ownsServer) await Server.DisposeAsync();
    }
}
