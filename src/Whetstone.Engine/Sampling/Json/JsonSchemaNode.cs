namespace Whetstone.Engine.Sampling.Json;

/// <summary>A JSON schema compiled for constrained decoding (<see cref="JsonSchemaCompiler"/>):
/// the few shapes a value can take, each knowing the fewest bytes of its shortest instance so a
/// decoder can always close the text within its budget. Reference types on purpose: recogniser
/// frames compare nodes by identity.</summary>
public abstract class JsonSchemaNode
{
    /// <summary>Bytes of the shortest compact instance.</summary>
    public abstract int MinBytes { get; }
}

/// <summary>A JSON string: any (escapes other than \uXXXX, so no lone surrogates can be written);
/// or, with a length bound or a <see cref="Pattern"/>, printable ASCII only, where characters,
/// code points and UTF-16 units are one and the same count (escapes only \" \\ \/, and none in a
/// pattern's string). A length bound and a pattern are not combined.</summary>
public sealed class JsonStringNode(int minLength = 0, int? maxLength = null, JsonStringPattern? pattern = null) : JsonSchemaNode
{
    public int MinLength { get; } = minLength;
    public int? MaxLength { get; } = maxLength;
    public JsonStringPattern? Pattern { get; } = pattern;
    /// <summary>Restricted to printable ASCII, character by character (a bound or a pattern).</summary>
    public bool Restricted => MinLength > 0 || MaxLength is not null || Pattern is not null;
    public override int MinBytes => 2 + (Pattern?.MinChars ?? MinLength);
}

/// <summary>A JSON number; <see cref="Integer"/>: no fraction or exponent.</summary>
public sealed class JsonNumberNode(bool integer) : JsonSchemaNode
{
    public bool Integer { get; } = integer;
    public override int MinBytes => 1;
}

/// <summary>An integer in [<see cref="Min"/>, <see cref="Max"/>] (both within ±(2^53 − 1)), written
/// without fraction or exponent; the recogniser allows a digit only while some completion stays in range.</summary>
public sealed class JsonIntegerRangeNode : JsonSchemaNode
{
    public const long Limit = 9_007_199_254_740_991;
    public long Min { get; }
    public long Max { get; }
    public override int MinBytes { get; }

    public JsonIntegerRangeNode(long min, long max)
    {
        if (min > max || min < -Limit || max > Limit) throw new ArgumentOutOfRangeException(nameof(min), $"[{min}, {max}]");
        (Min, Max) = (min, max);
        MinBytes = min <= 0 && max >= 0 ? 1 : min > 0 ? Digits(min) : 1 + Digits(-max);
    }

    static int Digits(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
}

/// <summary>No value at all: a branch pruned where recursion through $ref reached its depth limit.
/// The compiler removes it (an anyOf option, an optional property, array items); it never reaches the recogniser.</summary>
internal sealed class JsonNeverNode : JsonSchemaNode
{
    public static readonly JsonNeverNode Instance = new();
    public override int MinBytes => 1 << 20;
}

/// <summary>One of a fixed set of values, each as its compact UTF-8 bytes (true/false/null, enum, const).</summary>
public sealed class JsonLiteralNode(IReadOnlyList<byte[]> values) : JsonSchemaNode
{
    public IReadOnlyList<byte[]> Values { get; } = values;
    public override int MinBytes { get; } = values.Min(v => v.Length);
}

/// <summary>An object whose properties come in declared order; optional ones may be left out,
/// required ones never; no others.</summary>
public sealed class JsonObjectNode : JsonSchemaNode
{
    public sealed record Property(string Name, byte[] KeyBytes, JsonSchemaNode Value, bool Required)
    {
        /// <summary>"name": and the shortest value.</summary>
        public int MinBytes => KeyBytes.Length + Value.MinBytes;
    }

    public IReadOnlyList<Property> Properties { get; }
    public override int MinBytes { get; }

    public JsonObjectNode(IReadOnlyList<Property> properties)
    {
        Properties = properties;
        MinBytes = 1 + RequiredFrom(0, commaFirst: false);
    }

    /// <summary>Fewest bytes for the required properties from <paramref name="index"/> on and the closing brace.</summary>
    public int RequiredFrom(int index, bool commaFirst)
    {
        int bytes = 1, count = 0;
        for (int i = index; i < Properties.Count; i++)
            if (Properties[i].Required) { bytes += Properties[i].MinBytes; count++; }
        return bytes + (count == 0 ? 0 : commaFirst ? count : count - 1);
    }

    /// <summary>No required property is left from <paramref name="index"/> on.</summary>
    public bool MayCloseAt(int index)
    {
        for (int i = index; i < Properties.Count; i++) if (Properties[i].Required) return false;
        return true;
    }

    /// <summary>The properties that may come next: from <paramref name="index"/> up to and including the first required one.</summary>
    public IEnumerable<int> Candidates(int index)
    {
        for (int i = index; i < Properties.Count; i++)
        {
            yield return i;
            if (Properties[i].Required) yield break;
        }
    }
}

/// <summary>An array of <see cref="Items"/> with <see cref="MinItems"/>..<see cref="MaxItems"/> elements.</summary>
public sealed class JsonArrayNode(JsonSchemaNode items, int minItems, int? maxItems) : JsonSchemaNode
{
    public JsonSchemaNode Items { get; } = items;
    public int MinItems { get; } = minItems;
    public int? MaxItems { get; } = maxItems;
    public override int MinBytes => 2 + Math.Max(0, MinItems * (Items.MinBytes + 1) - 1);
}

/// <summary>Any of several schemas (anyOf, or a list of types).</summary>
public sealed class JsonAnyOfNode(IReadOnlyList<JsonSchemaNode> options) : JsonSchemaNode
{
    public IReadOnlyList<JsonSchemaNode> Options { get; } = options;
    public override int MinBytes { get; } = options.Min(o => o.MinBytes);
}
