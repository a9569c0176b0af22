using Whetstone.Chat;
using Whetstone.Protocol.OpenAi;
using Whetstone.Tokenization;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>Tokenizes a user's correction as a whole answer: the text, then the model's end-of-turn
/// token. A correction is the answer the user wanted, and an answer that the user wanted ends its
/// turn — whatever the served answer did. Before this, a correction was ended only when the served
/// answer had stopped, so corrections of answers cut off at max_tokens (most of the ones users
/// correct) carried no end token, and the loop's SFT on them taught the policy to keep writing after
/// its answer (experiential-loop results, seventh session).
///
/// The same tokens are the chosen side of the reward model's pair (chosen = correction, rejected =
/// the served answer as served). The chosen side ends too, deliberately: an answer cut off before its
/// turn ended is worse to the user than a finished one, so "ended ≻ cut off" is a true preference for
/// the reward model to learn, not a shortcut; and when the served answer did stop, both sides end
/// alike and differ by content only. The rejected side is left as it was served.</summary>
/// <param name="EndOfTurn">The ids that end an assistant turn, the preferred one first: the chat
/// renderer's stop tokens (ChatML's <c>&lt;|im_end|&gt;</c>), then the tokenizer's end-of-sequence ids.</param>
internal sealed record CorrectionEncoder(Func<string, IReadOnlyList<int>> Encode, IReadOnlyList<int> EndOfTurn)
{
    public static CorrectionEncoder For(HuggingFaceTokenizer tokenizer)
    {
        IReadOnlyList<int> stops;
        try { stops = RendererFactory.For(tokenizer).StopTokenIds; }
        catch (ArgumentException) { stops = []; } // a model without chat tokens ends its turns with EOS
        return new CorrectionEncoder(text => tokenizer.Encode(text), [.. stops.Concat(tokenizer.EosTokenIds).Distinct()]);
    }

    /// <summary>The correction's tokens ending in exactly one end-of-turn token: the one the served
    /// answer stopped on when it stopped on one (so a stopped pair differs by content alone), else
    /// the preferred one; a correction whose text already ends its turn gets no second.</summary>
    public IReadOnlyList<int> Tokens(string correction, ServedChoice served)
    {
        var tokens = Encode(correction).ToList();
        if (EndOfTurn.Count == 0 || tokens.Count > 0 && EndOfTurn.Contains(tokens[^1])) return tokens;
        bool stoppedOnEnd = served.FinishReason == "stop" && served.Tokens.Count > 0 && EndOfTurn.Contains(served.Tokens[^1]);
        tokens.Add(stoppedOnEnd ? served.Tokens[^1] : EndOfTurn[0]);
        return tokens;
    }
}
