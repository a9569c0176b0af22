namespace Whetstone.Engine.Sampling.Json;

/// <summary>Where a byte-level JSON (RFC 8259) recogniser stands after a prefix. Immutable:
/// <see cref="Feed"/> returns the next state or null when the byte cannot continue any JSON
/// text. Strings accept any byte ≥ 0x80 (multi-byte characters come a byte per token);
/// elsewhere only the grammar's ASCII. <see cref="ObjectOnly"/> makes the top-level value an
/// object (response_format json_object). <see cref="BytesToClose"/> is the fewest bytes that
/// complete the text from here, so a decoder can close it within its token budget.</summary>
internal sealed record JsonPrefixState : IJsonGrammarState
{
    IJsonGrammarState? IJsonGrammarState.Feed(byte b) => Feed(b);

    public enum Mode
    {
        Start, Value, FirstValueOrEnd, KeyOrEnd, Key, InString, Escape, Unicode, Colon, AfterValue,
        NumberSign, NumberZero, NumberInt, NumberDot, NumberFrac, NumberExpStart, NumberExpSign, NumberExp, Literal, Done,
    }

    public Mode At { get; init; } = Mode.Start;
    /// <summary>Open containers, innermost last: '{' or '['.</summary>
    public string Stack { get; init; } = "";
    public bool ObjectOnly { get; init; }
    /// <summary>InString/Escape/Unicode: whether the string is an object key.</summary>
    public bool IsKey { get; init; }
    /// <summary>Unicode: hex digits still to come; Literal: the rest of true/false/null.</summary>
    public string Pending { get; init; } = "";

    public static JsonPrefixState Begin(bool objectOnly) => new() { ObjectOnly = objectOnly };

    /// <summary>The bytes so far are a whole JSON text (a top-level number is whole at any digit).</summary>
    public bool IsComplete => At == Mode.Done || (Stack.Length == 0 && At is Mode.NumberZero or Mode.NumberInt or Mode.NumberFrac or Mode.NumberExp);

    static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';
    static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';
    static bool IsHex(byte b) => IsDigit(b) || b is >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    public JsonPrefixState? Feed(byte b) => At switch
    {
        Mode.Start => IsWhitespace(b) ? this : b == (byte)'{' ? Open('{') : ObjectOnly ? null : StartValue(b),
        Mode.Value => IsWhitespace(b) ? this : StartValue(b),
        Mode.FirstValueOrEnd => IsWhitespace(b) ? this : b == (byte)']' ? Close() : StartValue(b),
        Mode.KeyOrEnd => IsWhitespace(b) ? this : b == (byte)'}' ? Close() : b == (byte)'"' ? this with { At = Mode.InString, IsKey = true } : null,
        Mode.Key => IsWhitespace(b) ? this : b == (byte)'"' ? this with { At = Mode.InString, IsKey = true } : null,
        Mode.InString => b == (byte)'"' ? (IsKey ? this with { At = Mode.Colon, IsKey = false } : ValueEnded())
            : b == (byte)'\\' ? this with { At = Mode.Escape } : b < 0x20 ? null : this,
        Mode.Escape => b == (byte)'u' ? this with { At = Mode.Unicode, Pending = "xxxx" }
            : "\"\\/bfnrt".Contains((char)b) ? this with { At = Mode.InString } : null,
        Mode.Unicode => !IsHex(b) ? null : Pending.Length == 1 ? this with { At = Mode.InString, Pending = "" } : this with { Pending = Pending[1..] },
        Mode.Colon => IsWhitespace(b) ? this : b == (byte)':' ? this with { At = Mode.Value } : null,
        Mode.AfterValue => IsWhitespace(b) ? this
            : b == (byte)',' ? this with { At = Stack[^1] == '{' ? Mode.Key : Mode.Value }
            : b == (byte)(Stack[^1] == '{' ? '}' : ']') ? Close() : null,
        Mode.NumberSign => b == (byte)'0' ? this with { At = Mode.NumberZero } : IsDigit(b) ? this with { At = Mode.NumberInt } : null,
        Mode.NumberZero => b == (byte)'.' ? this with { At = Mode.NumberDot } : b is (byte)'e' or (byte)'E' ? this with { At = Mode.NumberExpStart } : EndNumber(b),
        Mode.NumberInt => IsDigit(b) ? this : b == (byte)'.' ? this with { At = Mode.NumberDot } : b is (byte)'e' or (byte)'E' ? this with { At = Mode.NumberExpStart } : EndNumber(b),
        Mode.NumberDot => IsDigit(b) ? this with { At = Mode.NumberFrac } : null,
        Mode.NumberFrac => IsDigit(b) ? this : b is (byte)'e' or (byte)'E' ? this with { At = Mode.NumberExpStart } : EndNumber(b),
        Mode.NumberExpStart => b is (byte)'+' or (byte)'-' ? this with { At = Mode.NumberExpSign } : IsDigit(b) ? this with { At = Mode.NumberExp } : null,
        Mode.NumberExpSign => IsDigit(b) ? this with { At = Mode.NumberExp } : null,
        Mode.NumberExp => IsDigit(b) ? this : EndNumber(b),
        Mode.Literal => b != (byte)Pending[0] ? null : Pending.Length == 1 ? ValueEnded() with { Pending = "" } : this with { Pending = Pending[1..] },
        Mode.Done => IsWhitespace(b) ? this : null,
        _ => null,
    };

    JsonPrefixState? StartValue(byte b) => b switch
    {
        (byte)'{' => Open('{'),
        (byte)'[' => Open('['),
        (byte)'"' => this with { At = Mode.InString, IsKey = false },
        (byte)'-' => this with { At = Mode.NumberSign },
        (byte)'0' => this with { At = Mode.NumberZero },
        >= (byte)'1' and <= (byte)'9' => this with { At = Mode.NumberInt },
        (byte)'t' => this with { At = Mode.Literal, Pending = "rue" },
        (byte)'f' => this with { At = Mode.Literal, Pending = "alse" },
        (byte)'n' => this with { At = Mode.Literal, Pending = "ull" },
        _ => null,
    };

    JsonPrefixState Open(char container) =>
        this with { Stack = Stack + container, At = container == '{' ? Mode.KeyOrEnd : Mode.FirstValueOrEnd };

    JsonPrefixState Close() => (this with { Stack = Stack[..^1] }).ValueEnded();

    /// <summary>A value just ended: the text is complete at top level, else the container continues.</summary>
    JsonPrefixState ValueEnded() => this with { At = Stack.Length == 0 ? Mode.Done : Mode.AfterValue };

    // A number ends at the first byte that cannot extend it; that byte is then read after the value.
    JsonPrefixState? EndNumber(byte b) => ValueEnded().Feed(b);

    /// <summary>Fewest bytes that make the text complete: a closing quote, ": 0" after a key, one
    /// digit where a number needs one, the rest of a literal, and one closer per open container.</summary>
    public int BytesToClose
    {
        get
        {
            int closers = Stack.Length;
            return At switch
            {
                Mode.Start => ObjectOnly ? 2 : 1,
                Mode.Value => 1 + closers,
                Mode.FirstValueOrEnd or Mode.KeyOrEnd or Mode.AfterValue => closers,
                Mode.Key => 4 + closers,                              // "":0
                Mode.InString => (IsKey ? 3 : 1) + closers,          // " (then :0 for a key)
                Mode.Escape => 1 + (IsKey ? 3 : 1) + closers,
                Mode.Unicode => Pending.Length + (IsKey ? 3 : 1) + closers,
                Mode.Colon => 2 + closers,
                Mode.NumberSign or Mode.NumberDot or Mode.NumberExpStart or Mode.NumberExpSign => 1 + closers,
                Mode.NumberZero or Mode.NumberInt or Mode.NumberFrac or Mode.NumberExp => closers,
                Mode.Literal => Pending.Length + closers,
                _ => 0,
            };
        }
    }
}
