namespace Whetstone.Engine.Formats.Gguf;

/// <summary>The key/value section of a GGUF file, in insertion order. Values are kept as the CLR
/// type matching their GGUF type: string, bool, int, uint, long, ulong, float, double, byte…,
/// and arrays as string[], int[], uint[], float[] (the array forms the tokenizer keys use).</summary>
public sealed class GgufMetadata
{
    readonly List<KeyValuePair<string, object>> _entries = [];
    readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public IReadOnlyList<KeyValuePair<string, object>> Entries => _entries;
    public int Count => _entries.Count;

    public void Set(string key, object value)
    {
        GgufValueTypes.Of(value);   // refuse unsupported CLR types now, not at write time
        if (_index.TryGetValue(key, out int i)) _entries[i] = new(key, value);
        else { _index[key] = _entries.Count; _entries.Add(new(key, value)); }
    }

    public bool Contains(string key) => _index.ContainsKey(key);

    public object? Find(string key) => _index.TryGetValue(key, out int i) ? _entries[i].Value : null;

    public string String(string key) => Find(key) as string ?? throw Missing(key, "string");

    public string? OptionalString(string key) => Find(key) as string;

    /// <summary>Any integer type as long: writers disagree on UINT32 vs INT32 vs UINT64 for counts.</summary>
    public long? OptionalInteger(string key) => Find(key) switch
    {
        null => null,
        byte v => v, sbyte v => v, ushort v => v, short v => v,
        uint v => v, int v => v, ulong v => checked((long)v), long v => v,
        var other => throw new InvalidDataException($"GGUF key '{key}' holds {other.GetType().Name}, expected an integer"),
    };

    public long Integer(string key) => OptionalInteger(key) ?? throw Missing(key, "integer");

    public double? OptionalNumber(string key) => Find(key) switch
    {
        null => null,
        float v => v,
        double v => v,
        _ => OptionalInteger(key),
    };

    public double Number(string key) => OptionalNumber(key) ?? throw Missing(key, "number");

    public bool? OptionalBool(string key) => Find(key) switch
    {
        null => null,
        bool v => v,
        var other => throw new InvalidDataException($"GGUF key '{key}' holds {other.GetType().Name}, expected bool"),
    };

    public T[] Array<T>(string key) => Find(key) switch
    {
        T[] v => v,
        null => throw Missing(key, typeof(T).Name + "[]"),
        var other => throw new InvalidDataException($"GGUF key '{key}' holds {other.GetType().Name}, expected {typeof(T).Name}[]"),
    };

    static InvalidDataException Missing(string key, string type) => new($"GGUF metadata has no {type} key '{key}'");
}
