namespace Whetstone.Engine.Sampling.Json;

/// <summary>Where a byte-level recogniser of the texts a <see cref="JsonSchemaNode"/> allows
/// stands after a prefix: a set of alternative stacks of frames (anyOf, enum values and
/// candidate keys sharing a prefix stay alive side by side until a byte tells them apart); a
/// frame that completes is popped, and its parent was already left in its after-child mode.
/// Output is compact JSON with one optional space after ':' and ','. An empty stack is a whole
/// text; a number at the top is whole at any digit, and it ends at the first byte that cannot
/// extend it, which then belongs to the parent.</summary>
internal sealed partial class SchemaPrefixState : IJsonGrammarState
{
    abstract record Frame;
    sealed record ValueFrame(JsonSchemaNode Node, bool SpaceAllowed) : Frame;
    sealed record LiteralFrame(byte[] Bytes, int Position) : Frame;
    sealed record StringFrame(bool Escape) : Frame;
    sealed record NumberFrame(bool Integer, NumberMode Mode) : Frame;
    sealed record ObjectFrame(JsonObjectNode Node, int Next, ContainerMode Mode) : Frame;
    sealed record ArrayFrame(JsonArrayNode Node, int Count, ContainerMode Mode) : Frame;
    sealed record Stack(Frame Top, Stack? Rest);

    enum NumberMode { Sign, Zero, Int, Dot, Frac, ExpStart, ExpSign, Exp }
    /// <summary>Open: just after the bracket; Comma: just after ','; Spaced: after ', '.</summary>
    enum ContainerMode { Open, AfterValue, Comma, Spaced }

    readonly Stack?[] _alternatives;

    SchemaPrefixState(Stack?[] alternatives) => _alternatives = alternatives;

    public static SchemaPrefixState Begin(JsonSchemaNode node) => new([new Stack(new ValueFrame(node, false), null)]);

    public bool IsComplete => _alternatives.Any(Complete);

    public int BytesToClose => _alternatives.Min(Cost);

    public override string ToString() => $"{_alternatives.Length} alternative(s), {BytesToClose} byte(s) to close";

    IJsonGrammarState? IJsonGrammarState.Feed(byte b) => Feed(b);

    public SchemaPrefixState? Feed(byte b)
    {
        var next = new List<Stack?>(_alternatives.Length);
        foreach (var stack in _alternatives) Step(stack, b, next);
        return next.Count == 0 ? null : new SchemaPrefixState(next.Distinct().ToArray());
    }

    static bool Complete(Stack? stack) => stack is null
        || (stack.Top is NumberFrame { Mode: NumberMode.Zero or NumberMode.Int or NumberMode.Frac or NumberMode.Exp } || stack.Top is IntFrame i && InRange(i))
            && Complete(stack.Rest);

    static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    static void Step(Stack? stack, byte b, List<Stack?> next)
    {
        if (stack is null) return;   // whole: nothing may follow
        var rest = stack.Rest;
        switch (stack.Top)
        {
            case ValueFrame v:
                if (b == (byte)' ' && v.SpaceAllowed) next.Add(new Stack(v with { SpaceAllowed = false }, rest));
                else StartValue(v.Node, rest, b, next);
                break;
            case LiteralFrame l when l.Bytes[l.Position] == b:
                next.Add(l.Position + 1 == l.Bytes.Length ? rest : new Stack(l with { Position = l.Position + 1 }, rest));
                break;
            case StringFrame { Escape: true }:
                if ("\"\\/bfnrt".Contains((char)b)) next.Add(new Stack(new StringFrame(false), rest));
                break;
            case StringFrame:
                if (b == (byte)'"') next.Add(rest);
                else if (b == (byte)'\\') next.Add(new Stack(new StringFrame(true), rest));
                else if (b >= 0x20) next.Add(stack);
                break;
            case NumberFrame n:
                if (NumberStep(n, b) is { } mode) next.Add(new Stack(n with { Mode = mode }, rest));
                else if (n.Mode is NumberMode.Zero or NumberMode.Int or NumberMode.Frac or NumberMode.Exp) Step(rest, b, next);
                break;
            case IntFrame i:
                IntStep(i, rest, b, next);
                break;
            case RestrictedStringFrame r:
                RestrictedStep(r, rest, b, next);
                break;
            case ObjectFrame o:
                if (b == (byte)'"' && o.Mode != ContainerMode.AfterValue) Keys(o, rest, next);
                else if (b == (byte)'}' && o.Mode is ContainerMode.Open or ContainerMode.AfterValue && o.Node.MayCloseAt(o.Next)) next.Add(rest);
                else if (b == (byte)',' && o.Mode == ContainerMode.AfterValue && o.Next < o.Node.Properties.Count) next.Add(new Stack(o with { Mode = ContainerMode.Comma }, rest));
                else if (b == (byte)' ' && o.Mode == ContainerMode.Comma) next.Add(new Stack(o with { Mode = ContainerMode.Spaced }, rest));
                break;
            case ArrayFrame a:
                if (b == (byte)']' && a.Mode is ContainerMode.Open or ContainerMode.AfterValue && a.Count >= a.Node.MinItems) next.Add(rest);
                else if (b == (byte)',' && a.Mode == ContainerMode.AfterValue && a.Count < (a.Node.MaxItems ?? int.MaxValue)) next.Add(new Stack(a with { Mode = ContainerMode.Comma }, rest));
                else if (b == (byte)' ' && a.Mode == ContainerMode.Comma) next.Add(new Stack(a with { Mode = ContainerMode.Spaced }, rest));
                else if (a.Mode != ContainerMode.AfterValue && a.Count < (a.Node.MaxItems ?? int.MaxValue))
                    StartValue(a.Node.Items, new Stack(a with { Count = a.Count + 1, Mode = ContainerMode.AfterValue }, rest), b, next);
                break;
        }
    }

    static NumberMode? NumberStep(NumberFrame n, byte b) => n.Mode switch
    {
        NumberMode.Sign => b == (byte)'0' ? NumberMode.Zero : IsDigit(b) ? NumberMode.Int : null,
        NumberMode.Zero or NumberMode.Int when !n.Integer && b == (byte)'.' => NumberMode.Dot,
        NumberMode.Zero or NumberMode.Int or NumberMode.Frac when !n.Integer && b is (byte)'e' or (byte)'E' => NumberMode.ExpStart,
        NumberMode.Int or NumberMode.Frac or NumberMode.Exp when IsDigit(b) => n.Mode,
        NumberMode.Dot => IsDigit(b) ? NumberMode.Frac : null,
        NumberMode.ExpStart => b is (byte)'+' or (byte)'-' ? NumberMode.ExpSign : IsDigit(b) ? NumberMode.Exp : null,
        NumberMode.ExpSign => IsDigit(b) ? NumberMode.Exp : null,
        _ => null,
    };

    /// <summary>An opening quote in key position: one alternative per property that may come next.</summary>
    static void Keys(ObjectFrame o, Stack? rest, List<Stack?> next)
    {
        foreach (int k in o.Node.Candidates(o.Next))
        {
            var property = o.Node.Properties[k];
            var afterValue = new Stack(o with { Next = k + 1, Mode = ContainerMode.AfterValue }, rest);
            next.Add(new Stack(new LiteralFrame(property.KeyBytes, 1), new Stack(new ValueFrame(property.Value, true), afterValue)));
        }
    }

    static void StartValue(JsonSchemaNode node, Stack? rest, byte b, List<Stack?> next)
    {
        switch (node)
        {
            case JsonStringNode { Restricted: true } restricted when b == (byte)'"':
                next.Add(new Stack(new RestrictedStringFrame(restricted, 0, false, restricted.Pattern?.Start), rest));
                break;
            case JsonStringNode when b == (byte)'"':
                next.Add(new Stack(new StringFrame(false), rest));
                break;
            case JsonIntegerRangeNode range:
                IntStart(range, rest, b, next);
                break;
            case JsonNumberNode n:
                NumberMode? mode = b == (byte)'-' ? NumberMode.Sign : b == (byte)'0' ? NumberMode.Zero : IsDigit(b) ? NumberMode.Int : null;
                if (mode is { } m) next.Add(new Stack(new NumberFrame(n.Integer, m), rest));
                break;
            case JsonLiteralNode literal:
                foreach (var value in literal.Values)
                    if (value[0] == b) next.Add(value.Length == 1 ? rest : new Stack(new LiteralFrame(value, 1), rest));
                break;
            case JsonObjectNode o when b == (byte)'{':
                next.Add(new Stack(new ObjectFrame(o, 0, ContainerMode.Open), rest));
                break;
            case JsonArrayNode a when b == (byte)'[':
                next.Add(new Stack(new ArrayFrame(a, 0, ContainerMode.Open), rest));
                break;
            case JsonAnyOfNode any:
                foreach (var option in any.Options) StartValue(option, rest, b, next);
                break;
            case JsonSequenceNode sequence:
                var after = rest;
                for (int i = sequence.Parts.Count - 1; i >= 1; i--) after = new Stack(new ValueFrame(sequence.Parts[i], false), after);
                StartValue(sequence.Parts[0], after, b, next);
                break;
        }
    }

    static int Cost(Stack? stack)
    {
        int bytes = 0;
        for (; stack is not null; stack = stack.Rest) bytes += Cost(stack.Top);
        return bytes;
    }

    static int Cost(Frame frame) => frame switch
    {
        ValueFrame v => v.Node.MinBytes,
        LiteralFrame l => l.Bytes.Length - l.Position,
        StringFrame s => s.Escape ? 2 : 1,
        NumberFrame n => n.Mode is NumberMode.Sign or NumberMode.Dot or NumberMode.ExpStart or NumberMode.ExpSign ? 1 : 0,
        ObjectFrame o => o.Mode switch
        {
            ContainerMode.Open => o.Node.RequiredFrom(o.Next, commaFirst: false),
            ContainerMode.AfterValue => o.Node.RequiredFrom(o.Next, commaFirst: true),
            // After ',' another property must come: the required ones, or else the cheapest optional one.
            _ => o.Node.MayCloseAt(o.Next) ? 1 + o.Node.Properties.Skip(o.Next).Min(p => p.MinBytes) : o.Node.RequiredFrom(o.Next, commaFirst: false),
        },
        ArrayFrame a => ArrayCost(a),
        IntFrame i => ExtraDigits(i) ?? JsonNeverNode.Instance.MinBytes,
        RestrictedStringFrame r => RestrictedCost(r),
        _ => 0,
    };

    static int ArrayCost(ArrayFrame a)
    {
        int missing = Math.Max(0, a.Node.MinItems - a.Count), item = a.Node.Items.MinBytes;
        if (a.Mode == ContainerMode.AfterValue) return missing * (item + 1) + 1;
        if (a.Mode != ContainerMode.Open) missing = Math.Max(1, missing);   // after ',' an item must come
        return missing == 0 ? 1 : missing * item + (missing - 1) + 1;
    }
}
