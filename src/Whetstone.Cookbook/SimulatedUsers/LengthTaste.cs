namespace Whetstone.Cookbook.SimulatedUsers;

/// <summary>What "concise" and "detailed" mean to the simulated population (the length term of
/// hidden satisfaction, the ideal answers, the stated taste and how many users are concise). Only
/// <see cref="SignOff"/> asks for something whet-nano can write without breaking its sums
/// (docs/results/experiential-loop.md, seventh session: SFT on each taste's answers, measured).</summary>
public enum LengthTaste
{
    /// <summary>The default since the seventh session. Detailed users want the work (whet-nano's own
    /// layout) and then a closing line, "So this is right." (words whet-nano knows: "Hope this helps!"
    /// came out garbled after the same SFT); concise users want no such closing words:
    /// the answer ends on its "Answer:" line. 30% of users are concise until the drift, 70% after.
    /// Corrections keep whet-nano's words (a disliked word replaced in them broke its sums). A closing
    /// line that restates the result ("So the answer is 125.") was tried first: whet-nano learned the
    /// sentence but never copied the number (always "11"), so it is not a taste it can satisfy.</summary>
    SignOff,

    /// <summary>Tried and refuted in the seventh session: concise users want no opening method
    /// sentence ("Add digit by digit from the right."), detailed users want it. whet-nano computes its
    /// steps at fixed offsets after that sentence: SFT without it gave 0 of 40 sums right.</summary>
    NoPreamble,

    /// <summary>Sessions 1–6: concise users want at most two lines (all work on one line and the
    /// "Answer:" line), detailed users at least three; 70% concise until the drift. whet-nano reads
    /// its digits by line and breaks its sums on one line (fifth session). Kept to reproduce old runs.</summary>
    OneLine,
}
