using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Experience.RewardModels;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

/// <summary>A deployment's streaming reward model: create, status (with prequential accuracy),
/// score answers, force an update, versions with lineage, corrections as SFT data.</summary>
internal static class RewardModelsApi
{
    public static void MapRewardModelsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.RewardModel("{name}"), async (string name, CreateRewardModelRequest? body, HttpContext http, RewardModelService models) =>
            Json(await models.CreateAsync(CallerOf(http), name, body, http.RequestAborted), StatusCodes.Status201Created));
        app.MapGet(Routes.RewardModel("{name}"), async (string name, HttpContext http, RewardModelService models) =>
            Json(await models.StatusAsync(CallerOf(http), name, http.RequestAborted)));
        app.MapPost(Routes.RewardModelScore("{name}"), async (string name, ScoreAnswersRequest body, HttpContext http, RewardModelService models) =>
        {
            var pairs = (body.Pairs ?? throw ApiError.BadRequest("pairs", "is required: a list of {prompt_tokens, answer_tokens}"))
                .Select((p, i) => p is null ? throw ApiError.BadRequest($"pairs[{i}]", "is null") : (p.PromptTokens!, p.AnswerTokens!)).ToArray();
            var (version, scores) = await models.ScoreWithVersionAsync(CallerOf(http), name, pairs, http.RequestAborted);
            return Json(new ScoreAnswersResponse(version, scores));
        });
        app.MapPost(Routes.RewardModelUpdate("{name}"), async (string name, HttpContext http, RewardModelService models) =>
        {
            var update = await models.UpdateNowAsync(CallerOf(http), name, http.RequestAborted);
            return Json(update is null ? new RewardModelUpdateInfo(false) : new RewardModelUpdateInfo(true)
            {
                Version = update.Version.ToProtocol(),
                Prequential = new PrequentialPoint(update.Version.Version, update.Version.CreatedAt, update.Predicted, update.PredictedCorrect,
                    update.Predicted == 0 ? 0 : update.PrequentialAccuracy, update.Predicted, update.Predicted == 0 ? 0 : update.PrequentialAccuracy),
            });
        });
        app.MapGet(Routes.RewardModelVersions("{name}"), async (string name, HttpContext http, RewardModelService models) =>
            Json(new RewardModelVersionList((await models.VersionsAsync(CallerOf(http), name, http.RequestAborted)).Select(v => v.ToProtocol()).ToArray())));
        app.MapGet(Routes.RewardModelCorrections("{name}"), async (string name, HttpContext http, RewardModelService models) =>
            Json(new CorrectionList(await models.CorrectionsAsync(CallerOf(http), name, http.RequestAborted))));
    }
}
