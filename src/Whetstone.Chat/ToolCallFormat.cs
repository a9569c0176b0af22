namespace Whetstone.Chat;

/// <summary>How a family writes one tool call in an assistant turn, around the call's JSON name
/// and arguments: <c>BeforeName "name" BeforeArguments {…} After</c>. Used to force a call by
/// constrained decoding (tool_choice "required" or a named function).</summary>
public sealed record ToolCallFormat(string BeforeName, string BeforeArguments, string After);
