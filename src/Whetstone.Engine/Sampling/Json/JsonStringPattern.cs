namespace Whetstone.Engine.Sampling.Json;

/// <summary>A regular expression subset compiled to an NFA over the characters a constrained string
/// may hold: printable ASCII without <c>"</c> and <c>\</c> (so a character is one byte and never
/// needs an escape). Supported: literals, <c>.</c>, classes <c>[a-z]</c> and <c>[^…]</c>, <c>\d \w \s</c>
/// (ASCII only; <c>\s</c> is a space) and their negations, escaped punctuation, groups <c>( )</c> and
/// <c>(?: )</c>, <c>|</c>, and <c>* + ? {n} {n,} {n,m}</c>. A leading <c>^</c> and trailing <c>$</c> are
/// dropped: a generated string matches the whole pattern, so it also contains a match (JSON Schema's
/// unanchored rule). Anything else is refused with <see cref="FormatException"/>.</summary>
public sealed class JsonStringPattern
{
    const int MaxStates = 4096, MaxRepeat = 64;
    /// <summary>Characters [0x20, 0x7f) except '"' and '\'.</summary>
    static readonly UInt128 Alphabet = Range(' ', '~') & ~Bit('"') & ~Bit('\\');

    readonly List<UInt128> _masks = [];        // per state: the characters its one transition takes (0: none)
    readonly List<int> _targets = [];
    readonly List<int[]> _epsilons = [];
    readonly int _accept;
    int[] _minChars = [];

    public string Source { get; }
    public int[] Start { get; private set; } = [];
    /// <summary>The fewest characters of a matching string.</summary>
    public int MinChars => MinCharsOf(Start);

    JsonStringPattern(string source)
    {
        Source = source;
        _accept = NewState(0, -1, []);
    }

    public static JsonStringPattern Compile(string pattern)
    {
        var compiled = new JsonStringPattern(pattern);
        string body = pattern;
        if (body.StartsWith('^')) body = body[1..];
        if (body.EndsWith('$') && !body.EndsWith("\\$")) body = body[..^1];
        var parser = new Parser(body);
        var ast = parser.Alternation();
        if (parser.Position != body.Length) throw new FormatException($"unexpected '{body[parser.Position]}' at {parser.Position}");
        int start = compiled.Build(ast, compiled._accept);
        compiled._minChars = compiled.ComputeMinChars();
        compiled.Start = compiled.Closure([start]);
        if (compiled.Start.Length == 0) throw new FormatException("matches no string of the allowed characters (printable ASCII without \" and \\)");
        return compiled;
    }

    public bool Accepts(int[] states) => states.Contains(_accept);

    /// <summary>The states after <paramref name="c"/>; empty when no match can follow.</summary>
    public int[] Step(int[] states, byte c)
    {
        var next = new List<int>();
        foreach (int s in states)
            if (c < 128 && (_masks[s] & Bit((char)c)) != 0) next.Add(_targets[s]);
        return Closure(next);
    }

    public int MinCharsOf(int[] states) => states.Length == 0 ? int.MaxValue : states.Min(s => _minChars[s]);

    /// <summary>The states reachable without a character, keeping only those that can still reach a match.</summary>
    int[] Closure(IEnumerable<int> seeds)
    {
        var seen = new HashSet<int>();
        var stack = new Stack<int>(seeds);
        while (stack.Count > 0)
        {
            int s = stack.Pop();
            if (!seen.Add(s)) continue;
            foreach (int e in _epsilons[s]) stack.Push(e);
        }
        return [.. seen.Where(s => _minChars[s] != int.MaxValue && (s == _accept || _masks[s] != 0)).Order()];
    }

    int NewState(UInt128 mask, int target, int[] epsilons)
    {
        if (_masks.Count >= MaxStates) throw new FormatException($"is too large (more than {MaxStates} states)");
        _masks.Add(mask);
        _targets.Add(target);
        _epsilons.Add(epsilons);
        return _masks.Count - 1;
    }

    /// <summary>Builds the states that match <paramref name="node"/> and then go on to <paramref name="next"/>; returns the first.</summary>
    int Build(Node node, int next)
    {
        switch (node)
        {
            case Chars c: return NewState(c.Mask & Alphabet, next, []);
            case Sequence s:
                for (int i = s.Parts.Count - 1; i >= 0; i--) next = Build(s.Parts[i], next);
                return next;
            case Choice a: return NewState(0, -1, [.. a.Options.Select(o => Build(o, next))]);
            case Repeat r:
                int tail = next;
                if (r.Max is null)
                {
                    int loop = NewState(0, -1, []);
                    _epsilons[loop] = [Build(r.Body, loop), next];
                    tail = loop;
                }
                else
                    for (int i = 0; i < r.Max - r.Min; i++) tail = NewState(0, -1, [Build(r.Body, tail), next]);
                for (int i = 0; i < r.Min; i++) tail = Build(r.Body, tail);
                return tail;
            default: throw new InvalidOperationException(node.ToString());
        }
    }

    /// <summary>Per state, the fewest characters to a match (int.MaxValue: none), by relaxation to a fixed point.</summary>
    int[] ComputeMinChars()
    {
        var min = Enumerable.Repeat(int.MaxValue, _masks.Count).ToArray();
        min[_accept] = 0;
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int s = 0; s < _masks.Count; s++)
            {
                int best = min[s];
                if (_masks[s] != 0 && min[_targets[s]] != int.MaxValue) best = Math.Min(best, min[_targets[s]] + 1);
                foreach (int e in _epsilons[s]) best = Math.Min(best, min[e]);
                if (best < min[s]) { min[s] = best; changed = true; }
            }
        }
        return min;
    }

    static UInt128 Bit(char c) => (UInt128)1 << c;
    static UInt128 Range(char from, char to)
    {
        UInt128 mask = 0;
        for (char c = from; c <= to; c++) mask |= Bit(c);
        return mask;
    }

    abstract record Node;
    sealed record Chars(UInt128 Mask) : Node;
    sealed record Sequence(List<Node> Parts) : Node;
    sealed record Choice(List<Node> Options) : Node;
    sealed record Repeat(Node Body, int Min, int? Max) : Node;

    sealed class Parser(string text)
    {
        public int Position;
        bool More => Position < text.Length;
        char Peek => text[Position];

        public Node Alternation()
        {
            var options = new List<Node> { Concatenation() };
            while (More && Peek == '|') { Position++; options.Add(Concatenation()); }
            return options.Count == 1 ? options[0] : new Choice(options);
        }

        Node Concatenation()
        {
            var parts = new List<Node>();
            while (More && Peek != '|' && Peek != ')') parts.Add(Quantified(Atom()));
            return new Sequence(parts);
        }

        Node Quantified(Node atom)
        {
            if (!More) return atom;
            (int min, int? max) = Peek switch { '*' => (0, (int?)null), '+' => (1, null), '?' => (0, 1), '{' => Braces(), _ => (-1, null) };
            if (min < 0) return atom;
            Position++;   // past the quantifier (or the closing brace)
            if (More && Peek is '?' or '+') throw new FormatException($"lazy or possessive quantifiers are not supported (at {Position})");
            return new Repeat(atom, min, max);
        }

        (int, int?) Braces()
        {
            int close = text.IndexOf('}', Position);
            if (close < 0) throw new FormatException($"unclosed '{{' at {Position}");
            var parts = text[(Position + 1)..close].Split(',');
            Position = close;
            int Count(string s) => int.TryParse(s, out int n) && n is >= 0 and <= MaxRepeat ? n : throw new FormatException($"repeat counts must be 0 to {MaxRepeat}");
            int min = Count(parts[0]);
            int? max = parts.Length == 1 ? min : parts[1].Length == 0 ? null : Count(parts[1]);
            if (parts.Length > 2 || max < min) throw new FormatException($"bad repeat '{{{string.Join(",", parts)}}}'");
            return (min, max);
        }

        Node Atom()
        {
            char c = text[Position++];
            switch (c)
            {
                case '(':
                    if (More && Peek == '?')
                    {
                        if (Position + 1 < text.Length && text[Position + 1] == ':') Position += 2;
                        else throw new FormatException($"only (?: ) groups are supported (at {Position})");
                    }
                    var inner = Alternation();
                    if (!More || Peek != ')') throw new FormatException("unclosed '('");
                    Position++;
                    return inner;
                case '[': return Class();
                case '.': return new Chars(Alphabet);
                case '\\': return new Chars(Escape(inClass: false));
                case '^' or '$': throw new FormatException($"anchors are supported only at the pattern's start and end (at {Position - 1})");
                case '*' or '+' or '?' or '{' or ')': throw new FormatException($"unexpected '{c}' at {Position - 1}");
                default: return c < 128 ? new Chars(Bit(c)) : throw new FormatException($"'{c}' is not ASCII (constrained patterns generate printable ASCII)");
            }
        }

        Chars Class()
        {
            bool negate = More && Peek == '^';
            if (negate) Position++;
            UInt128 mask = 0;
            bool first = true;
            while (More && (Peek != ']' || first))
            {
                first = false;
                UInt128 one = Peek == '\\' ? Escape(inClass: true, skip: true) : text[Position] < 128 ? Bit(text[Position++]) : throw new FormatException($"'{text[Position]}' is not ASCII");
                if (More && Peek == '-' && Position + 1 < text.Length && text[Position + 1] != ']' && UInt128.PopCount(one) == 1)
                {
                    Position++;
                    char from = (char)(int)UInt128.TrailingZeroCount(one), to = text[Position] == '\\' ? (char)(int)UInt128.TrailingZeroCount(Escape(inClass: true, skip: true)) : text[Position++];
                    if (to < from || to > 127) throw new FormatException($"bad range {from}-{to}");
                    one = Range(from, to);
                }
                mask |= one;
            }
            if (!More) throw new FormatException("unclosed '['");
            Position++;
            return new Chars(negate ? Alphabet & ~mask : mask);
        }

        UInt128 Escape(bool inClass, bool skip = false)
        {
            if (skip) Position++;
            if (!More) throw new FormatException("pattern ends in '\\'");
            char c = text[Position++];
            UInt128 digits = Range('0', '9'), word = digits | Range('a', 'z') | Range('A', 'Z') | Bit('_');
            return c switch
            {
                'd' => digits, 'D' => Alphabet & ~digits,
                'w' => word, 'W' => Alphabet & ~word,
                's' => Bit(' '), 'S' => Alphabet & ~Bit(' '),
                _ when c < 128 && !char.IsLetterOrDigit(c) => Bit(c),
                _ => throw new FormatException($"escape '\\{c}' is not supported"),
            };
        }
    }
}
