using System.Text.Json;
using Whetstone.Chat;
using Whetstone.Engine.Sampling.Json;

namespace Whetstone.Service.OpenAi;

/// <summary>The grammar of exactly one call, in the family's call text, to one of the forced
/// functions, with arguments that are an instance of its parameters schema, e.g. for Qwen3
/// <c>&lt;tool_call&gt;\n{"name": "f", "arguments": {…}}\n&lt;/tool_call&gt;</c>.</summary>
internal static class ToolCallGrammar
{
    public static JsonSchemaNode For(ToolCallFormat format, IReadOnlyList<ForcedTool> tools)
    {
        var calls = tools.Select(t => (JsonSchemaNode)new JsonSequenceNode(
            [JsonSequenceNode.Text((format.NameAsJsonString ? JsonSerializer.Serialize(t.Name) : t.Name) + format.BeforeArguments), t.Arguments])).ToArray();
        return new JsonSequenceNode(
            [JsonSequenceNode.Text(format.BeforeName), calls.Length == 1 ? calls[0] : new JsonAnyOfNode(calls), JsonSequenceNode.Text(format.After)]);
    }
}
