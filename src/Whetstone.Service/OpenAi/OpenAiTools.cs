using System.Text.Json;
using Whetstone.Engine.Sampling.Json;

namespace Whetstone.Service.OpenAi;

/// <summary>A function the model must call (tool_choice "required": one of several; a named
/// function: that one), with its parameters compiled for constrained decoding.</summary>
internal sealed record ForcedTool(string Name, JsonSchemaNode Arguments);

/// <summary>A chat request's tools and tool_choice, checked: every tool is {"type": "function",
/// "function": {"name": …}}. "auto" (the default with tools) renders them and reads calls back;
/// "none" leaves them out of the prompt (OpenAI: the model will not call a tool); "required" and
/// a named function also force the answer to be one call, by constrained decoding of the
/// family's call text (<see cref="ToolCallGrammar"/>): the arguments follow the function's
/// parameters schema, whose unsupported keywords are 400s naming their path.</summary>
internal static class OpenAiTools
{
    public sealed record Choice(IReadOnlyList<string> Rendered, IReadOnlyList<ForcedTool>? Forced);

    public static Choice Read(IReadOnlyList<JsonElement>? tools, JsonElement? choice)
    {
        string? named = null;
        string mode = choice switch
        {
            null => "auto",
            { ValueKind: JsonValueKind.String } c when c.GetString() is "none" or "auto" or "required" => c.GetString()!,
            { ValueKind: JsonValueKind.Object } c => Named(c, out named),
            var c => throw ApiError.BadRequest("tool_choice", $"= {c.Value.GetRawText()} must be 'none', 'auto', 'required' or a function object"),
        };
        if (tools is not { Count: > 0 })
            return mode is "none" or "auto" ? new([], null) : throw ApiError.BadRequest("tools", $"are required with tool_choice {(named is null ? "'required'" : $"naming '{named}'")}");
        var functions = new JsonElement[tools.Count];
        for (int i = 0; i < tools.Count; i++)
        {
            var tool = tools[i];
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function")
                throw ApiError.BadRequest($"tools[{i}].type", "must be \"function\"");
            if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                throw ApiError.BadRequest($"tools[{i}].function", "is required: an object with a name");
            if (!function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(name.GetString()))
                throw ApiError.BadRequest($"tools[{i}].function.name", "is required: a non-empty string");
            functions[i] = function;
        }
        var rendered = mode == "none" ? [] : tools.Select(t => t.GetRawText()).ToArray();
        if (mode is "none" or "auto") return new(rendered, null);
        var names = functions.Select(f => f.GetProperty("name").GetString()!).ToArray();
        if (named is not null && !names.Contains(named))
            throw ApiError.BadRequest("tool_choice.function.name", $"'{named}' is not among the tools ({string.Join(", ", names)})");
        var forced = Enumerable.Range(0, functions.Length).Where(i => named is null || names[i] == named)
            .Select(i => new ForcedTool(names[i], Parameters(functions[i], $"tools[{i}].function.parameters"))).ToArray();
        return new(rendered, forced);
    }

    static string Named(JsonElement choice, out string? name)
    {
        if (!choice.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function")
            throw ApiError.BadRequest("tool_choice.type", "must be \"function\"");
        if (!choice.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
            || !function.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(n.GetString()))
            throw ApiError.BadRequest("tool_choice.function.name", "is required: the name of one of the tools");
        name = n.GetString();
        return "named";
    }

    // No parameters: the function takes none, so its arguments are {}.
    static JsonSchemaNode Parameters(JsonElement function, string field)
    {
        if (!function.TryGetProperty("parameters", out var parameters)) return new JsonObjectNode([]);
        try { return JsonSchemaCompiler.Compile(parameters); }
        catch (JsonSchemaException e) { throw ApiError.BadRequest(e.Path.Length == 0 ? field : $"{field}.{e.Path}", e.Message); }
    }
}
