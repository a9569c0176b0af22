using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Engine.Models;
using Whetstone.Protocol;
using Whetstone.Service.Runs;
using static Whetstone.Service.Api.TrainingApi;

namespace Whetstone.Service.Api;

/// <summary>What the server offers: its base models with their limits (Tinker's
/// get_server_capabilities) and each model's tokenizer files, from which the SDK builds the
/// tokenizer (Tinker's get_tokenizer). Every tenant sees the same base models.</summary>
internal static class ServerInfoApi
{
    public static void MapServerInfoApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(ServerInfoRoutes.Capabilities, (BaseModelRegistry models) =>
            Json(new ServerCapabilities(models.Names.Order(StringComparer.Ordinal).Select(name =>
            {
                var config = ModelConfig.Load(models.Directory(name));
                return new SupportedModel(name, config.Family.ModelType(), config.MaxPositionEmbeddings,
                    SupportsLora: true, SupportsImages: false, SupportsFullFineTuning: true);
            }).ToArray())));
        app.MapGet(ServerInfoRoutes.TokenizerFileTemplate, (string model, string file, BaseModelRegistry models) =>
        {
            if (!ServerInfoRoutes.TokenizerFiles.Contains(file))
                throw new ApiError(System.Net.HttpStatusCode.NotFound, "not_found", $"'{file}' is not a tokenizer file ({string.Join(", ", ServerInfoRoutes.TokenizerFiles)})", "file");
            var path = Path.Combine(models.Directory(model), file);
            return File.Exists(path) ? Results.File(path, "application/json")
                : throw new ApiError(System.Net.HttpStatusCode.NotFound, "not_found", $"model '{model}' has no {file}", "file");
        });
    }
}
