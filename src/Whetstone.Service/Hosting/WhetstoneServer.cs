using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Whetstone.Protocol;
using Whetstone.Service.Api;
using Whetstone.Service.Auth;
using Whetstone.Service.OpenAi;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Hosting;

/// <summary>The training service as a web application: Kestrel, the route groups, one error
/// shape, API-key auth, the metadata store and the model schedulers. `whet serve` runs it; tests
/// start it on a loopback port.</summary>
public sealed class WhetstoneServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ServiceCore _core;
    readonly CancellationTokenSource _stop = new();
    Task? _sweeper;

    public ServerOptions Options { get; }
    /// <summary>Set when this start created the admin key: shown once, never stored in clear.</summary>
    public string? CreatedAdminKey { get; private set; }
    public IReadOnlyList<string> Urls => _app.Urls.ToArray();
    public ServiceCore Core => _core;

    WhetstoneServer(WebApplication app, ServiceCore core, ServerOptions options)
    {
        _app = app;
        _core = core;
        Options = options;
    }

    public static async Task<WhetstoneServer> StartAsync(ServerOptions options)
    {
        var core = await ServiceCore.CreateAsync(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = ProtocolJson.Options.PropertyNamingPolicy;
            o.SerializerOptions.DefaultIgnoreCondition = ProtocolJson.Options.DefaultIgnoreCondition;
            o.SerializerOptions.NumberHandling = ProtocolJson.Options.NumberHandling;
            foreach (var converter in ProtocolJson.Options.Converters) o.SerializerOptions.Converters.Add(converter);
        });
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddSingleton(core.Context);
        builder.Services.AddSingleton(core.Context.Models);
        builder.Services.AddSingleton(core.Store);
        builder.Services.AddSingleton(core.Runs);
        builder.Services.AddSingleton(core.Sessions);
        builder.Services.AddSingleton(core.Checkpoints);
        builder.Services.AddSingleton(core.Deployments);
        builder.Services.AddSingleton(core.Feedback);
        builder.Services.AddSingleton(core.Completions);

        var app = builder.Build();
        app.UseMiddleware<ErrorHandling>();
        app.UseMiddleware<ApiKeyAuthentication>();
        app.MapHealthApi();
        app.MapTrainingApi();
        app.MapSamplingApi();
        app.MapFuturesApi();
        app.MapCheckpointsApi();
        app.MapDeploymentsApi();
        app.MapOpenAiApi();

        var server = new WhetstoneServer(app, core, options);
        server.CreatedAdminKey = await AdminKeys.EnsureAsync(core.Store, options.AdminKey);
        await app.StartAsync();
        server._sweeper = server.SweepExpiredAsync(core.Checkpoints);
        return server;
    }

    async Task SweepExpiredAsync(CheckpointService checkpoints)
    {
        using var timer = new PeriodicTimer(Options.ExpirySweepInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try { await checkpoints.ExpireAsync(DateTimeOffset.UtcNow); }
                catch (Exception e) { _core.Context.Logger.LogError(e, "expiring checkpoints"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_sweeper is not null) await _sweeper;
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _core.DisposeAsync();
    }
}
