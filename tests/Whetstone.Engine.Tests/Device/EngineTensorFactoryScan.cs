using System.Text.RegularExpressions;

namespace Whetstone.Engine.Tests.Device;

/// <summary>Reads the engine's source and finds every call of a torch tensor factory (zeros, ones,
/// empty, full, arange, tensor, rand, randn, normal, eye, linspace, …), with its whole argument
/// list (which may span lines). Used by <see cref="EngineTensorFactoryTests"/>.</summary>
internal static partial class EngineTensorFactoryScan
{
    /// <summary>Factories that make a tensor from nothing (so on the default device unless told).
    /// The *_like ones follow their argument's device and are not listed.</summary>
    public static readonly string[] Factories =
    [
        "zeros", "ones", "empty", "full", "arange", "range", "tensor", "as_tensor", "from_array", "frombuffer",
        "rand", "randn", "randint", "randperm", "normal", "bernoulli", "eye", "linspace", "logspace", "empty_strided",
        "tril_indices", "triu_indices", "scalar_tensor", "complex", "polar",
    ];

    public readonly record struct Call(string File, int Line, string Factory, string Text)
    {
        public bool NamesADevice => DeviceArgument().IsMatch(Text);
        public bool NamesTheCpu => CpuArgument().IsMatch(Text);
        public override string ToString() => $"{File}:{Line}: {Text}";
    }

    // A call: not a member access (x.full(…)), not part of a longer name (zeros_like, Ones).
    static readonly Regex CallStart = new(@"(?<![\w.])(?:(?:TorchSharp\.)?torch\.)?(" + string.Join("|", Factories) + @")\s*\(", RegexOptions.Compiled);

    [GeneratedRegex(@"\bdevice\s*:")]
    private static partial Regex DeviceArgument();

    [GeneratedRegex(@"\bdevice\s*:\s*(?:[\w.]*\.)?CPU\b")]
    private static partial Regex CpuArgument();

    public static string EngineSourceDirectory()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Whetstone.slnx")))
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no Whetstone.slnx above the tests");
        return Path.Combine(root, "src", "Whetstone.Engine");
    }

    /// <summary>Every factory call in the engine's .cs files (bin/ and obj/ left out), paths relative to the engine's folder.</summary>
    public static List<Call> Calls(string engineDirectory)
    {
        var calls = new List<Call>();
        foreach (var path in Directory.GetFiles(engineDirectory, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(engineDirectory, path).Replace('\\', '/');
            if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal)) continue;
            calls.AddRange(CallsIn(relative, File.ReadAllText(path)));
        }
        return calls;
    }

    public static IEnumerable<Call> CallsIn(string file, string source)
    {
        var code = WithoutCommentsAndStrings(source);
        foreach (Match m in CallStart.Matches(code))
        {
            int open = m.Index + m.Length - 1, depth = 0, end = open;
            for (; end < code.Length; end++)
            {
                if (code[end] == '(') depth++;
                else if (code[end] == ')' && --depth == 0) break;
            }
            int line = 1 + code.AsSpan(0, m.Index).Count('\n');
            var text = Regex.Replace(code[m.Index..Math.Min(end + 1, code.Length)], @"\s+", " ");
            yield return new Call(file, line, m.Groups[1].Value, text);
        }
    }

    // Comments and string contents blanked (newlines kept, so line numbers stay right): a factory
    // named in a comment or message is not a call.
    static string WithoutCommentsAndStrings(string source)
    {
        var chars = source.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (chars[i] == '/' && i + 1 < chars.Length && chars[i + 1] == '/')
                for (; i < chars.Length && chars[i] != '\n'; i++) chars[i] = ' ';
            else if (chars[i] == '/' && i + 1 < chars.Length && chars[i + 1] == '*')
                for (; i < chars.Length && !(chars[i] == '/' && i > 0 && source[i - 1] == '*'); i++) { if (chars[i] != '\n') chars[i] = ' '; }
            else if (chars[i] == '"')
            {
                bool verbatim = i > 0 && (source[i - 1] == '@' || (source[i - 1] == '$' && i > 1 && source[i - 2] == '@'));
                for (i++; i < chars.Length; i++)
                {
                    if (!verbatim && chars[i] == '\\') { chars[i] = ' '; if (i + 1 < chars.Length) chars[++i] = ' '; continue; }
                    if (chars[i] == '"') { if (verbatim && i + 1 < chars.Length && chars[i + 1] == '"') { chars[i] = chars[++i] = ' '; continue; } break; }
                    if (chars[i] != '\n') chars[i] = ' ';
                }
            }
            else if (chars[i] == '\'' && i + 2 < chars.Length)
            {
                int close = source.IndexOf('\'', i + 1 + (source[i + 1] == '\\' ? 2 : 1));
                if (close > i && close - i <= 8) { for (int j = i + 1; j < close; j++) chars[j] = ' '; i = close; }
            }
        }
        return new string(chars);
    }
}
