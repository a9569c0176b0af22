namespace Whetstone.Chat;

/// <summary>How a family writes one tool call in an assistant turn, around the call's JSON name
/// and arguments: <c>BeforeName "name" BeforeArguments {…} After</c>. Used to force a call by
/// constrained decoding (tool_choice "required" or a named function).</summary>
public sealed record ToolCallFormat(string BeforeName, string BeforeArguments, string After)
{
    /// <summary>Whether the name is written as a JSON string (Qwen, Llama) or bare (Kimi K2's functions.NAME:0).</summary>
    public bool NameAsJsonString { get; init; } = true;
}
