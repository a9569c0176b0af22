using System.Text.Json;
using System.Text.Json.Serialization;

namespace Whetstone.Protocol;

/// <summary>The one JSON setting of the protocol: snake_case names (as Tinker's and OpenAI's
/// APIs), nulls omitted, enums as strings.</summary>
public static class ProtocolJson
{
    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>Gives another options object (a web host's) the protocol's settings.</summary>
    public static void CopyTo(JsonSerializerOptions target)
    {
        target.PropertyNamingPolicy = Options.PropertyNamingPolicy;
        target.DictionaryKeyPolicy = Options.DictionaryKeyPolicy;
        target.DefaultIgnoreCondition = Options.DefaultIgnoreCondition;
        target.NumberHandling = Options.NumberHandling;
        foreach (var converter in Options.Converters) target.Converters.Add(converter);
    }

    static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }
}
