using Whetstone.Chat;

namespace Whetstone.Cookbook.Rl;

/// <summary>
/// An env that talks in chat messages through the model's renderer: the observation is the
/// rendered conversation up to the assistant's header; an action is parsed back into a message
/// and answered by <see cref="Respond"/>. The next observation is the previous one plus the
/// action's tokens plus the rendered reply, so a whole episode is one token sequence whose
/// prefixes are exactly what the policy saw (one datum per episode, no re-tokenising of sampled
/// text).
/// </summary>
public abstract class ChatEnv(IRenderer renderer, IReadOnlyList<ChatMessage> prompt) : IEnv
{
    readonly List<ChatMessage> _messages = [.. prompt];
    List<int>? _tokens;

    public Observation InitialObservation()
    {
        if (_tokens is not null) throw new InvalidOperationException("an env runs one episode; make a new one");
        _tokens = [.. renderer.BuildGenerationPrompt(_messages)];
        return new Observation(_tokens.ToArray(), renderer.StopTokenIds);
    }

    public StepResult Step(IReadOnlyList<int> action)
    {
        if (_tokens is null) throw new InvalidOperationException("call InitialObservation first");
        // A turn cut off by max_tokens has no stop token: there is nothing to reply to.
        bool stopped = action.Count > 0 && renderer.StopTokenIds.Contains(action[^1]);
        var reply = renderer.ParseResponse(action);
        var turn = Respond(reply, stopped);
        if (turn.Done || turn.Feedback is null || !stopped)
            return new StepResult(turn.Reward, true, null, turn.Metrics);

        var before = renderer.BuildGenerationPrompt(_messages);
        _messages.Add(reply);
        _messages.Add(turn.Feedback);
        var after = renderer.BuildGenerationPrompt(_messages);
        _tokens.AddRange(action);
        _tokens.AddRange(AfterReply(before, after));
        return new StepResult(turn.Reward, false, new Observation(_tokens.ToArray(), renderer.StopTokenIds), turn.Metrics);
    }

    /// <summary>Judges one reply. <paramref name="stopped"/> is false when the reply was cut off
    /// by the token limit (the episode then ends whatever this returns).</summary>
    protected abstract EnvTurn Respond(ChatMessage reply, bool stopped);

    // The rendered conversation after the reply's own end-of-turn token: the template's
    // separator, the env's message and the next assistant header.
    IEnumerable<int> AfterReply(IReadOnlyList<int> before, IReadOnlyList<int> after)
    {
        for (int i = 0; i < before.Count; i++)
            if (after[i] != before[i]) throw new InvalidOperationException("the renderer does not extend a conversation by appending to it");
        for (int i = before.Count; i < after.Count; i++)
            if (renderer.StopTokenIds.Contains(after[i])) return after.Skip(i + 1);
        throw new InvalidOperationException("the rendered reply has no end-of-turn token");
    }
}

/// <summary>An env's verdict on one reply: the reward, whether the episode ends, the message it
/// answers with when it goes on, and facts for the logs ("correct", "format").</summary>
public sealed record EnvTurn(double Reward, bool Done, ChatMessage? Feedback, IReadOnlyDictionary<string, double> Metrics);
