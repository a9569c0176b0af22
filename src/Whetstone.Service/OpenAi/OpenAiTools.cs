using System.Text.Json;

namespace Whetstone.Service.OpenAi;

/// <summary>A chat request's tools and tool_choice, checked: every tool is {"type": "function",
/// "function": {"name": …}}; tool_choice "auto" (the default with tools) renders them and reads
/// calls back, "none" leaves them out of the prompt (OpenAI: the model will not call a tool).
/// "required" and a named function would need the call forced by constrained decoding and are
/// refused by name.</summary>
internal static class OpenAiTools
{
    public static IReadOnlyList<string> Read(IReadOnlyList<JsonElement>? tools, JsonElement? choice)
    {
        string mode = choice switch
        {
            null => "auto",
            { ValueKind: JsonValueKind.String } c when c.GetString() is "none" or "auto" => c.GetString()!,
            { ValueKind: JsonValueKind.String } c when c.GetString() == "required" =>
                throw ApiError.BadRequest("tool_choice", "'required' is not supported (forcing a call needs constrained decoding of the call); use 'auto' or 'none'"),
            { ValueKind: JsonValueKind.Object } =>
                throw ApiError.BadRequest("tool_choice", "naming a function is not supported (forcing a call needs constrained decoding of the call); use 'auto' or 'none'"),
            var c => throw ApiError.BadRequest("tool_choice", $"= {c.Value.GetRawText()} must be 'none', 'auto', 'required' or a function object"),
        };
        if (tools is not { Count: > 0 }) return [];
        for (int i = 0; i < tools.Count; i++)
        {
            var tool = tools[i];
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function")
                throw ApiError.BadRequest($"tools[{i}].type", "must be \"function\"");
            if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                throw ApiError.BadRequest($"tools[{i}].function", "is required: an object with a name");
            if (!function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(name.GetString()))
                throw ApiError.BadRequest($"tools[{i}].function.name", "is required: a non-empty string");
        }
        return mode == "none" ? [] : tools.Select(t => t.GetRawText()).ToArray();
    }
}
