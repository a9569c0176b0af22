using Whetstone.Cookbook.SimulatedUsers;

namespace Whetstone.Service.Tests.Loops;

/// <summary>
/// The feedback scores a simulated user's events get in the loop (LoopIterationJob.Satisfaction: thumbs
/// up 1, down 0, rating (r − 1)/4, correction 0, preferred 1), drawn by the rules of
/// <see cref="SimulationRound"/>'s FeedbackAsync without a server: the user feels the answer's hidden
/// satisfaction plus Gaussian noise of their Noise; a thumb at their Thumbs rate (up when felt ≥ 0.7),
/// a rating at their Rating rate (round(1 + 4·felt)), a correction at their Correction rate when felt
/// &lt; 0.7, a preference at their Preference rate (the preferred answer's event scores 1 whichever
/// answer it was; both come from the same version). The preference's second answer is not drawn, so
/// its events come a little more often than served (where two equal felt scores give none).
/// </summary>
internal static class SimulatedFeedbackScores
{
    /// <summary>One event: its score and whether it was a correction.</summary>
    public readonly record struct Event(double Score, bool Correction);

    public static IEnumerable<Event> Draw(FeedbackHabits habits, double satisfaction, Random random)
    {
        double felt = Math.Clamp(satisfaction + habits.Noise * Gaussian(random), 0, 1);
        if (random.NextDouble() < habits.Thumbs) yield return new(felt >= SimulationRound.Satisfied ? 1 : 0, false);
        if (random.NextDouble() < habits.Rating) yield return new((Math.Round(1 + 4 * felt) - 1) / 4, false);
        if (felt < SimulationRound.Satisfied && random.NextDouble() < habits.Correction) yield return new(0, true);
        if (random.NextDouble() < habits.Preference) yield return new(1, false);
    }

    static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
