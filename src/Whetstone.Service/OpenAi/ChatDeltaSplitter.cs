using System.Text;

namespace Whetstone.Service.OpenAi;

/// <summary>Splits a streamed assistant turn into reasoning and content deltas the way the
/// renderer parses the finished turn (Qwen3 and Kimi K2: a leading &lt;think&gt;…&lt;/think&gt; block is the
/// reasoning, &lt;tool_call&gt; blocks or Kimi's call section are tool calls, content is trimmed of newlines). Tags that
/// are still incomplete, trailing newlines and everything from a &lt;tool_call&gt; on are held
/// back; <see cref="Finish"/> reconciles with the parsed message, so the concatenated deltas
/// equal the non-streamed message.</summary>
internal sealed class ChatDeltaSplitter
{
    const string ThinkOpen = "<think>", ThinkClose = "</think>";
    // Qwen's call block and Kimi K2's call section: content ends where either begins.
    static readonly string[] ToolOpens = ["<tool_call>", "<|tool_calls_section_begin|>"];
    enum State { Undecided, Thinking, AfterThinking, Content, ToolCalls }

    readonly StringBuilder _pending = new();
    readonly StringBuilder _reasoning = new();
    readonly StringBuilder _content = new();
    State _state;

    public string Reasoning => _reasoning.ToString();
    public string Content => _content.ToString();

    /// <summary>Feeds released text; returns the reasoning and content it releases.</summary>
    public (string Reasoning, string Content) Append(string piece)
    {
        _pending.Append(piece);
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        while (true)
        {
            string buffer = _pending.ToString();
            switch (_state)
            {
                case State.Undecided:
                {
                    string trimmed = buffer.TrimStart();
                    if (trimmed.Length == 0) return Done();
                    if (trimmed.Length < ThinkOpen.Length && ThinkOpen.StartsWith(trimmed, StringComparison.Ordinal)) return Done();
                    if (trimmed.StartsWith(ThinkOpen, StringComparison.Ordinal)) { Set(trimmed[ThinkOpen.Length..]); _state = State.Thinking; }
                    else _state = State.Content;
                    continue;
                }
                case State.Thinking:
                {
                    int close = buffer.IndexOf(ThinkClose, StringComparison.Ordinal);
                    if (close >= 0)
                    {
                        Emit(_reasoning, reasoning, buffer[..close], final: true);
                        Set(buffer[(close + ThinkClose.Length)..]);
                        _state = State.AfterThinking;
                        continue;
                    }
                    int keep = PartialTag(buffer, ThinkClose);
                    Emit(_reasoning, reasoning, buffer[..^keep], final: false, out int used);
                    Set(buffer[used..]);
                    return Done();
                }
                case State.AfterThinking:
                {
                    string trimmed = buffer.TrimStart();
                    Set(trimmed);
                    if (trimmed.Length == 0) return Done();
                    _state = State.Content;
                    continue;
                }
                case State.Content:
                {
                    int tool = ToolOpens.Select(t => buffer.IndexOf(t, StringComparison.Ordinal)).Where(at => at >= 0).DefaultIfEmpty(-1).Min();
                    if (tool >= 0)
                    {
                        Emit(_content, content, buffer[..tool], final: false, out int usedBefore);
                        Set(buffer[usedBefore..]);
                        _state = State.ToolCalls;
                        return Done();
                    }
                    int keep = ToolOpens.Max(t => PartialTag(buffer, t));
                    Emit(_content, content, buffer[..^keep], final: false, out int used);
                    Set(buffer[used..]);
                    return Done();
                }
                default:
                    return Done();   // tool calls: held until the end
            }
        }

        (string, string) Done() => (reasoning.ToString(), content.ToString());
    }

    /// <summary>The rest, given the renderer's parse of the whole turn: whatever of its reasoning
    /// and content the stream has not shown yet.</summary>
    public (string Reasoning, string Content) Finish(string? parsedReasoning, string parsedContent)
    {
        static string Rest(StringBuilder shown, string? full)
        {
            full ??= "";
            string rest = full.StartsWith(shown.ToString(), StringComparison.Ordinal) ? full[shown.Length..] : "";
            shown.Append(rest);
            return rest;
        }
        return (Rest(_reasoning, parsedReasoning), Rest(_content, parsedContent));
    }

    void Set(string buffer) => _pending.Clear().Append(buffer);

    void Emit(StringBuilder shown, StringBuilder delta, string text, bool final) => Emit(shown, delta, text, final, out _);

    // Newlines at the start of a part and (until more text follows) at its end are held back, as
    // the parser trims them.
    static void Emit(StringBuilder shown, StringBuilder delta, string text, bool final, out int used)
    {
        string candidate = shown.Length == 0 ? text.TrimStart('\n') : text;
        int skipped = text.Length - candidate.Length;
        string body = candidate.TrimEnd('\n');
        used = final ? text.Length : skipped + body.Length;
        shown.Append(body);
        delta.Append(body);
    }

    // How many trailing characters could be the start of the tag.
    static int PartialTag(string buffer, string tag)
    {
        for (int length = Math.Min(tag.Length - 1, buffer.Length); length > 0; length--)
            if (string.CompareOrdinal(buffer, buffer.Length - length, tag, 0, length) == 0) return length;
        return 0;
    }
}
