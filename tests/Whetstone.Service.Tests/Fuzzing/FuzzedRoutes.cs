using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.Fuzzing;

/// <summary>One route of the service as the fuzzer sees it: method, template, parameters, and the
/// body type when it has one.</summary>
internal sealed record FuzzedRoute(string Method, string Template, IReadOnlyList<string> Parameters, Type? BodyType);

internal static class FuzzedRoutes
{
    /// <summary>The /v1 handlers read their bodies themselves (to name the field of a wrong type),
    /// so the endpoint has no body metadata: their types, by template.</summary>
    static readonly Dictionary<string, Type> ReadByHand = new(StringComparer.Ordinal)
    {
        [Routes.OpenAiChatCompletions] = typeof(ChatCompletionRequest),
        [Routes.OpenAiCompletions] = typeof(CompletionRequest),
        [Routes.Feedback] = typeof(FeedbackRequest),
    };

    /// <summary>Every route of the app the server serves, read from its endpoint data source: a
    /// route added later is fuzzed without touching the fuzzer.</summary>
    public static IReadOnlyList<FuzzedRoute> Of(ServiceCore core)
    {
        var app = WhetstoneApp.Build(core, _ => { });   // built, never started: only its route table is read
        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().ToList();
        var routes = new List<FuzzedRoute>();
        foreach (var endpoint in endpoints)
        {
            var template = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var body = endpoint.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType
                ?? ReadByHand.GetValueOrDefault(template);
            var parameters = endpoint.RoutePattern.Parameters.Select(p => p.Name).ToArray();
            foreach (var method in methods)
                routes.Add(new FuzzedRoute(method, template, parameters, method is "POST" or "PUT" or "PATCH" ? body : null));
        }
        return routes;
    }
}
