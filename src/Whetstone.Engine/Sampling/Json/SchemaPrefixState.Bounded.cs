namespace Whetstone.Engine.Sampling.Json;

// The bounded values: integers in a range (a digit only while some completion stays in range) and
// restricted strings (printable ASCII, counted for minLength/maxLength or run through a pattern).
internal sealed partial class SchemaPrefixState
{
    /// <summary>An integer of a range so far: its sign, its magnitude and how many digits it has.</summary>
    sealed record IntFrame(JsonIntegerRangeNode Node, bool Negative, long Magnitude, int Digits) : Frame;
    /// <summary>A restricted string after its opening quote: characters so far, a pending escape, the pattern's NFA states.</summary>
    sealed record RestrictedStringFrame(JsonStringNode Node, int Count, bool Escape, int[]? States) : Frame;

    static bool InRange(IntFrame i) => i.Digits > 0 && Value(i) >= i.Node.Min && Value(i) <= i.Node.Max;

    static long Value(IntFrame i) => i.Negative ? -i.Magnitude : i.Magnitude;

    static void IntStart(JsonIntegerRangeNode node, Stack? rest, byte b, List<Stack?> next)
    {
        IntFrame? frame = b == (byte)'-' ? new IntFrame(node, true, 0, 0) : IsDigit(b) ? new IntFrame(node, false, b - '0', 1) : null;
        if (frame is not null && ExtraDigits(frame) is not null) next.Add(new Stack(frame, rest));
    }

    static void IntStep(IntFrame i, Stack? rest, byte b, List<Stack?> next)
    {
        bool leadingZero = i.Digits > 0 && i.Magnitude == 0;
        if (IsDigit(b) && !leadingZero && i.Magnitude <= JsonIntegerRangeNode.Limit)
        {
            var longer = i with { Magnitude = i.Magnitude * 10 + (b - '0'), Digits = i.Digits + 1 };
            if (ExtraDigits(longer) is not null)
            {
                next.Add(new Stack(longer, rest));
                return;
            }
        }
        if (InRange(i)) Step(rest, b, next);   // the number ended: the byte belongs to the parent
    }

    /// <summary>The fewest digits still to write for a value in range; null when no completion is in range.</summary>
    static int? ExtraDigits(IntFrame i)
    {
        long min = i.Node.Min, max = i.Node.Max;
        if (i.Digits == 0)   // only '-': k digits give −(10^k − 1) … −10^(k−1), and "-0" is 0
        {
            if (min <= 0 && max >= 0 || min <= -1 && max >= -9) return 1;
            long low = 10;
            for (int k = 2; low <= JsonIntegerRangeNode.Limit; k++, low *= 10)
                if (Overlaps(-Math.Min(low * 10 - 1, JsonIntegerRangeNode.Limit), -low, min, max)) return k;
            return null;
        }
        if (i.Magnitude == 0) return min <= 0 && max >= 0 ? 0 : null;   // a leading zero: the value is 0
        long scale = 1;
        for (int k = 0; i.Magnitude <= JsonIntegerRangeNode.Limit / scale; k++, scale *= 10)
        {
            long lowAbs = i.Magnitude * scale, highAbs = Math.Min(lowAbs + (scale - 1), JsonIntegerRangeNode.Limit);
            if (i.Negative ? Overlaps(-highAbs, -lowAbs, min, max) : Overlaps(lowAbs, highAbs, min, max)) return k;
            if (scale > JsonIntegerRangeNode.Limit / 10) break;
        }
        return null;
    }

    static bool Overlaps(long lo, long hi, long min, long max) => lo <= max && hi >= min;

    static bool Printable(byte b) => b is >= 0x20 and < 0x7f;

    static void RestrictedStep(RestrictedStringFrame r, Stack? rest, byte b, List<Stack?> next)
    {
        var node = r.Node;
        if (r.Escape)
        {
            if (b is (byte)'"' or (byte)'\\' or (byte)'/') next.Add(new Stack(r with { Count = r.Count + 1, Escape = false }, rest));
            return;
        }
        if (b == (byte)'"')
        {
            if (r.States is { } done ? node.Pattern!.Accepts(done) : r.Count >= node.MinLength) next.Add(rest);
            return;
        }
        if (r.States is { } states)
        {
            if (b != (byte)'\\' && Printable(b) && node.Pattern!.Step(states, b) is { Length: > 0 } after)
                next.Add(new Stack(r with { States = after }, rest));
            return;
        }
        if (r.Count >= (node.MaxLength ?? int.MaxValue) || !Printable(b)) return;
        next.Add(new Stack(b == (byte)'\\' ? r with { Escape = true } : r with { Count = r.Count + 1 }, rest));
    }

    static int RestrictedCost(RestrictedStringFrame r)
    {
        if (r.States is { } states) return 1 + r.Node.Pattern!.MinCharsOf(states);
        int count = r.Escape ? r.Count + 1 : r.Count;
        return (r.Escape ? 1 : 0) + Math.Max(0, r.Node.MinLength - count) + 1;
    }
}
