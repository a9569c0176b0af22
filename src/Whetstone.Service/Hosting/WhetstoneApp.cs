using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Whetstone.Protocol;
using Whetstone.Service.Api;
using Whetstone.Service.Auth;
using Whetstone.Service.OpenAi;
using Whetstone.Service.Runs;
using Whetstone.Service.WebConsole;

namespace Whetstone.Service.Hosting;

/// <summary>The one route table and middleware of the service, over one <see cref="ServiceCore"/>.
/// Kestrel (<see cref="WhetstoneServer"/>) and the in-memory server (<see cref="InMemoryServer"/>)
/// both build their app here, so a route added once is served by both.</summary>
internal static class WhetstoneApp
{
    public static WebApplication Build(ServiceCore core, Action<WebApplicationBuilder> host)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        host(builder);
        builder.Services.Configure<JsonOptions>(o => ProtocolJson.CopyTo(o.SerializerOptions));
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddSingleton(core.Context);
        builder.Services.AddSingleton(core.Context.Models);
        builder.Services.AddSingleton(core.Store);
        builder.Services.AddSingleton(core.Runs);
        builder.Services.AddSingleton<IRunCalls>(_ => core.RunCalls);   // resolved late: a cluster sets it after building
        builder.Services.AddSingleton(core.Sessions);
        builder.Services.AddSingleton<ISamplingCalls>(_ => core.SamplingCalls);   // resolved late, as IRunCalls
        builder.Services.AddSingleton(core.Checkpoints);
        builder.Services.AddSingleton(core.Deployments);
        builder.Services.AddSingleton(core.Feedback);
        builder.Services.AddSingleton(core.Completions);
        builder.Services.AddSingleton<ICompletionCalls>(_ => core.CompletionCalls);   // resolved late, as IRunCalls
        builder.Services.AddSingleton(core.Loops);
        builder.Services.AddSingleton(core.RewardModels);
        builder.Services.AddSingleton(core.Memories);
        Observability.MetricsEndpoint.AddWhetstoneMetrics(builder.Services, core);

        var app = builder.Build();
        app.UseMiddleware<ErrorHandling>();
        app.UseWebConsole();
        app.UseMiddleware<ApiKeyAuthentication>();
        app.MapHealthApi();
        app.MapTrainingApi();
        app.MapSamplingApi();
        app.MapFuturesApi();
        app.MapCheckpointsApi();
        app.MapDeploymentsApi();
        app.MapLoopsApi();
        app.MapRewardModelsApi();
        app.MapRunMetricsApi();
        app.MapOpenAiApi();
        Memory.MemoriesApi.MapMemoriesApi(app);
        app.MapServerInfoApi();
        app.MapListingApi();
        app.MapSessionsApi();
        Observability.MetricsEndpoint.MapMetricsApi(app);
        return app;
    }
}
