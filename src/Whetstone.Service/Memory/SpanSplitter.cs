namespace Whetstone.Service.Memory;

/// <summary>Cuts a turn's tokens into spans of one line each ("user: …\n", "assistant: …\n"), at token
/// boundaries, so the pieces concatenate back to the turn exactly. A span as large as a whole turn
/// made the memory keep or lose the user's facts together with the model's own answer (which, for
/// the small models here, is noise that used up budget); one line each lets the mask keep the
/// fact and let the answer go. <see cref="MemorySpan.Speaker"/> is the line's role label, or the
/// speaker of the line before when it has none.</summary>
internal static class SpanSplitter
{
    public sealed record Piece(int[] Tokens, string? Speaker);

    public static IReadOnlyList<Piece> Lines(IReadOnlyList<int> tokens, Func<int, string> tokenText)
    {
        var pieces = new List<Piece>();
        var current = new List<int>();
        var text = new System.Text.StringBuilder();
        void Cut()
        {
            if (current.Count == 0) return;
            // A line of whitespace alone joins the line before it (nothing to score on its own).
            if (pieces.Count > 0 && string.IsNullOrWhiteSpace(text.ToString()))
                pieces[^1] = pieces[^1] with { Tokens = [.. pieces[^1].Tokens, .. current] };
            // A line with no role label goes on the message before it (an answer with a newline in it is still the model's).
            else pieces.Add(new Piece([.. current], SpeakerOf(text.ToString()) ?? (pieces.Count > 0 ? pieces[^1].Speaker : null)));
            current.Clear();
            text.Clear();
        }
        foreach (int token in tokens)
        {
            string piece = tokenText(token);
            current.Add(token);
            text.Append(piece);
            if (piece.Contains('\n')) Cut();
        }
        Cut();
        return pieces;
    }

    static string? SpeakerOf(string line)
    {
        string t = line.TrimStart();
        foreach (var role in new[] { "user", "assistant", "system", "tool" })
            if (t.StartsWith(role + ":", StringComparison.Ordinal)) return role;
        return null;
    }
}
