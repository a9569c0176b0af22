using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Whetstone.Service.Auth;

namespace Whetstone.Service.OpenAi;

/// <summary>Who answers a checked /v1 completion request: this process
/// (<see cref="OpenAiCompletionService"/>), or in a cluster a worker hosting the request's base
/// model (Cluster/ClusterCompletionCalls). <paramref name="body"/> is the request as sent.</summary>
internal interface ICompletionCalls
{
    Task ServeAsync(HttpContext http, Caller caller, OpenAiRequest request, JsonElement body);
}
