using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Whetstone.Chat;

/// <summary>JSON text as the chat templates' <c>tojson</c> filter writes it (Python's json.dumps with
/// ensure_ascii off): keys in their given order, ", " and ": " between items, or one item per line
/// under <c>indent</c>. Templates render tool definitions and call arguments this way, so a
/// prompt we build matches the one the model was trained on byte for byte.</summary>
public static class PythonJson
{
    public static string Dumps(JsonElement value, int? indent = null)
    {
        var text = new StringBuilder();
        Write(text, value, indent, 0);
        return text.ToString();
    }

    public static string Dumps(string json, int? indent = null)
    {
        using var document = JsonDocument.Parse(json);
        return Dumps(document.RootElement, indent);
    }

    static void Write(StringBuilder text, JsonElement value, int? indent, int depth)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WriteItems(text, value.EnumerateObject().ToList(), '{', '}', indent, depth, (p, d) =>
                {
                    WriteString(text, p.Name);
                    text.Append(": ");
                    Write(text, p.Value, indent, d);
                });
                break;
            case JsonValueKind.Array:
                WriteItems(text, value.EnumerateArray().ToList(), '[', ']', indent, depth, (e, d) => Write(text, e, indent, d));
                break;
            case JsonValueKind.String: WriteString(text, value.GetString()!); break;
            case JsonValueKind.True: text.Append("true"); break;
            case JsonValueKind.False: text.Append("false"); break;
            case JsonValueKind.Null: text.Append("null"); break;
            default: text.Append(value.GetRawText()); break;   // numbers as sent
        }
    }

    static void WriteItems<T>(StringBuilder text, List<T> items, char open, char close, int? indent, int depth, Action<T, int> item)
    {
        text.Append(open);
        if (items.Count == 0) { text.Append(close); return; }
        for (int i = 0; i < items.Count; i++)
        {
            if (indent is int n) text.Append(i == 0 ? "\n" : ",\n").Append(' ', n * (depth + 1));
            else if (i > 0) text.Append(", ");
            item(items[i], depth + 1);
        }
        if (indent is int m) text.Append('\n').Append(' ', m * depth);
        text.Append(close);
    }

    static void WriteString(StringBuilder text, string s)
    {
        text.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    if (c < 0x20) text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else text.Append(c);
                    break;
            }
        }
        text.Append('"');
    }
}
