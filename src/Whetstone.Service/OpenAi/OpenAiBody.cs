using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Whetstone.Protocol;

namespace Whetstone.Service.OpenAi;

/// <summary>Reads a /v1 request body into its protocol type. What is not JSON is refused as
/// "body"; a field of the wrong type is refused by its JSON path ("temperature",
/// "messages[0].content"), so every refusal names the field.</summary>
internal static partial class OpenAiBody
{
    public static async Task<(T Request, JsonElement Body)> ReadAsync<T>(HttpRequest request)
    {
        JsonDocument document;
        try { document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted); }
        catch (JsonException e) { throw ApiError.BadRequest("body", $"is not valid JSON: {e.Message}"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ApiError.BadRequest("body", "must be a JSON object");
            try { return (root.Deserialize<T>(ProtocolJson.Options)!, root.Clone()); }
            catch (JsonException e) { throw ApiError.BadRequest(FieldOf(e.Path), Reason(e.Message)); }
        }
    }

    static string FieldOf(string? path) => path?.TrimStart('$').TrimStart('.') is { Length: > 0 } field ? field : "body";

    // The serializer's "could not be converted to System.Nullable`1[System.Int32]" in the words of the API.
    static string Reason(string message)
    {
        if (ConvertedTo().Match(message) is not { Success: true } m) return message;
        return m.Groups[1].Value switch
        {
            "Int32" or "Int64" => "must be an integer",
            "Double" or "Single" => "must be a number",
            "Boolean" => "must be true or false",
            "String" => "must be a string",
            _ => "has the wrong JSON type",
        };
    }

    [GeneratedRegex(@"could not be converted to (?:System\.Nullable`1\[)?(?:System\.)?(\w+)")]
    private static partial Regex ConvertedTo();
}
