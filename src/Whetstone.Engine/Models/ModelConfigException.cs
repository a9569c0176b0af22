namespace Whetstone.Engine.Models;

/// <summary>A config.json we cannot run: the message names the field, the value and why.</summary>
public sealed class ModelConfigException(string field, string reason)
    : Exception($"config.json: '{field}' {reason}")
{
    public string Field { get; } = field;
}
