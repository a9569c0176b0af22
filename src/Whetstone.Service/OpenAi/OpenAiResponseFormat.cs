using System.Text.RegularExpressions;
using Whetstone.Engine.Sampling.Json;
using Whetstone.Protocol.OpenAi;

namespace Whetstone.Service.OpenAi;

/// <summary>response_format, checked: "text", "json_object" (any JSON object) or "json_schema"
/// (an instance of the schema, whatever "strict" says: constrained decoding always holds to it).
/// A schema keyword the decoder cannot honour is a 400 naming its path under
/// response_format.json_schema.schema.</summary>
internal static partial class OpenAiResponseFormat
{
    const string SchemaField = "response_format.json_schema.schema";

    public static (bool JsonObject, JsonSchemaNode? Schema) Read(ResponseFormat? format) => format?.Type switch
    {
        null or "text" => (false, null),
        "json_object" => (true, null),
        "json_schema" => (false, Schema(format.JsonSchema)),
        var other => throw ApiError.BadRequest("response_format.type", $"'{other}' must be 'text', 'json_object' or 'json_schema'"),
    };

    static JsonSchemaNode Schema(JsonSchemaFormat? format)
    {
        if (format is null) throw ApiError.BadRequest("response_format.json_schema", "is required with type 'json_schema': {\"name\": …, \"schema\": {…}}");
        if (format.Name is not { } name || !OpenAiName().IsMatch(name))
            throw ApiError.BadRequest("response_format.json_schema.name", $"= '{format.Name}' is required: 1 to 64 letters, digits, '_' or '-'");
        if (format.Schema is not { } schema) throw ApiError.BadRequest(SchemaField, "is required (a JSON schema object)");
        try { return JsonSchemaCompiler.Compile(schema); }
        catch (JsonSchemaException e) { throw ApiError.BadRequest(e.Path.Length == 0 ? SchemaField : $"{SchemaField}.{e.Path}", e.Message); }
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")] private static partial Regex OpenAiName();
}
