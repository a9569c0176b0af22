using System.Globalization;
using System.Text.Json;

namespace Whetstone.Engine.Sampling.Json;

// Strings (length bounds, pattern, format) and numbers (bounds).
public static partial class JsonSchemaCompiler
{
    /// <summary>The formats generated, each as a pattern of <see cref="JsonStringPattern"/>'s subset. Dates
    /// keep to days every year has (29 February is never generated); times and date-times are UTC ("Z").</summary>
    static readonly Dictionary<string, string> Formats = new()
    {
        ["date"] = Date,
        ["time"] = Time,
        ["date-time"] = Date + "T" + Time,
        ["email"] = "[a-z0-9]+(\\.[a-z0-9]+)*@[a-z0-9]+(-[a-z0-9]+)*(\\.[a-z]{2,6})+",
        ["uuid"] = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        ["ipv4"] = Octet + "(\\." + Octet + "){3}",
    };
    const string Date = "[1-9][0-9]{3}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))";
    const string Time = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z";
    const string Octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

    static JsonStringNode String(JsonElement schema, string path)
    {
        int min = Count(schema, "minLength", path) ?? 0;
        int? max = Count(schema, "maxLength", path);
        if (max < min) throw new JsonSchemaException(At(path, "maxLength"), $"= {max} is below minLength = {min}");
        bool hasPattern = schema.TryGetProperty("pattern", out var pattern), hasFormat = schema.TryGetProperty("format", out var format);
        if (hasPattern && hasFormat) throw new JsonSchemaException(At(path, "format"), "cannot be combined with pattern in constrained decoding");
        if ((hasPattern || hasFormat) && (min > 0 || max is not null))
            throw new JsonSchemaException(At(path, hasPattern ? "pattern" : "format"), "cannot be combined with minLength/maxLength in constrained decoding (put the length in the pattern)");
        if (hasFormat)
        {
            string name = format.ValueKind == JsonValueKind.String ? format.GetString()! : throw new JsonSchemaException(At(path, "format"), "must be a string");
            return Formats.TryGetValue(name, out var formatPattern) ? new JsonStringNode(pattern: JsonStringPattern.Compile(formatPattern))
                : throw new JsonSchemaException(At(path, "format"), $"'{name}' is not generated (supported: {string.Join(", ", Formats.Keys)})");
        }
        if (hasPattern)
        {
            string source = pattern.ValueKind == JsonValueKind.String ? pattern.GetString()! : throw new JsonSchemaException(At(path, "pattern"), "must be a string");
            try { return new JsonStringNode(pattern: JsonStringPattern.Compile(source)); }
            catch (FormatException e) { throw new JsonSchemaException(At(path, "pattern"), $"'{source}': {e.Message}"); }
        }
        return new JsonStringNode(min, max);
    }

    /// <summary>A number or integer; with bounds, an integer in them (for a number too: a bounded
    /// number is generated as an integer, which is one), within ±(2^53 − 1).</summary>
    static JsonSchemaNode Number(JsonElement schema, string path, bool integer)
    {
        decimal? Bound(string keyword) => !schema.TryGetProperty(keyword, out var value) ? null
            : value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) ? d
            : throw new JsonSchemaException(At(path, keyword), "must be a number");
        decimal? minimum = Bound("minimum"), maximum = Bound("maximum"), exclusiveMin = Bound("exclusiveMinimum"), exclusiveMax = Bound("exclusiveMaximum");
        if (minimum is null && maximum is null && exclusiveMin is null && exclusiveMax is null) return new JsonNumberNode(integer);
        decimal low = -JsonIntegerRangeNode.Limit, high = JsonIntegerRangeNode.Limit;
        if (minimum is { } a) low = Math.Max(low, Math.Ceiling(a));
        if (exclusiveMin is { } b) low = Math.Max(low, Math.Floor(b) + 1);
        if (maximum is { } c) high = Math.Min(high, Math.Floor(c));
        if (exclusiveMax is { } d) high = Math.Min(high, Math.Ceiling(d) - 1);
        string keyword = maximum is not null ? "maximum" : exclusiveMax is not null ? "exclusiveMaximum" : minimum is not null ? "minimum" : "exclusiveMinimum";
        if (low > high)
            throw new JsonSchemaException(At(path, keyword), $"leaves no integer within ±{JsonIntegerRangeNode.Limit} between the bounds "
                + "(constrained decoding generates bounded numbers as integers)");
        return new JsonIntegerRangeNode((long)low, (long)high);
    }
}
