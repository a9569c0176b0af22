namespace Whetstone.Engine.Sampling.Json;

/// <summary>Where a byte-level recogniser stands after a prefix, as <see cref="JsonConstraint"/>
/// needs it: immutable, fed one byte at a time (null: the byte leads off every accepted text).</summary>
internal interface IJsonGrammarState
{
    IJsonGrammarState? Feed(byte b);
    /// <summary>The bytes so far are a whole accepted text.</summary>
    bool IsComplete { get; }
    /// <summary>Fewest bytes that make the text complete from here.</summary>
    int BytesToClose { get; }
}
