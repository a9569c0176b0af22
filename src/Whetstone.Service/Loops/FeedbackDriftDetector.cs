namespace Whetstone.Service.Loops;

/// <summary>
/// ADWIN (Bifet and Gavaldà, "Learning from time-changing data with adaptive windowing", SDM 2007)
/// over a stream of feedback scores in [0, 1], compared within users: it keeps a window of the newest
/// values, and whenever some split of it into an older part W0 and a newer part W1 shows that the
/// users' scores changed by more than chance allows, it drops W0 — the window then starts at the change.
///
/// Why within users. A drift of taste moves users in opposite directions: after the sign-off drift a
/// version that writes the closing line loses 0.2–0.5 with the users who stopped wanting it and gains
/// 0.2–0.4 with those who started, and the population's mean score moves by only 0.07 (replayed on the
/// eighth session's answers, DriftReplay). ADWIN's test of the mean would need ~2,300 events after the
/// change to see 0.07 (≈ 160 rounds of 12 users); the per-user differences, summed as squares, carry
/// about fourteen times that signal. With one key for all values (user null) this is ADWIN's test.
///
/// The test of one split: for each user u with values on both sides (n0u and n1u of them),
/// D_u = mean before − mean after. Values in [0, 1] are sub-Gaussian with variance proxy ¼ (Hoeffding's
/// lemma), so while u's mean is constant D_u/σ_u, σ_u² = (1/n0u + 1/n1u)/4, is centred sub-Gaussian with
/// proxy 1, independently across users; for the sum of squares of k such values
/// P(S ≥ k + 2√(k·x) + 2x) ≤ e^(−x) (Hsu, Kakade and Zhang, "A tail inequality for quadratic forms of
/// subgaussian random vectors", 2012, Thm 1 with A = I). The split trips when S exceeds that at
/// x = ln(1/δ').
///
/// Two departures from the paper, both to make its error a bound over the whole stream rather than
/// per step (the loop recomputes this from all stored feedback, so "per step" would add up):
/// - the splits checked after the t-th value are those whose newer part has one of a geometric grid
///   of lengths (<see cref="MinSide"/>, ×<see cref="Growth"/>, … up to the window's length less
///   MinSide) — ADWIN2's exponential histogram checks its bucket boundaries, a grid of the same kind;
/// - the error is spent over time: δ' = δ / (t(t + 1)·|grid|), and Σ_t 1/(t(t + 1)) = 1.
/// Hence on a stream where no user's mean ever changes it ever cuts with probability at most δ, at
/// every length at once (a union bound over every check until the first cut).
///
/// Values must be independent given their users while nothing changes: several events on one answer
/// (a thumb and a rating of the same felt satisfaction) are not, so the loop feeds one value per
/// answer (<see cref="AdaptiveCorrectionWindow"/>). Cost: each check visits every user, O(users · log t).
/// </summary>
internal sealed class FeedbackDriftDetector(double delta = FeedbackDriftDetector.DefaultDelta)
{
    /// <summary>The whole stream's chance of a cut where no user's mean ever changed.</summary>
    public const double DefaultDelta = 0.05;
    /// <summary>The shortest part of a split that is tested: a handful of values says nothing at this
    /// δ, so shorter splits would only spend error.</summary>
    public const int MinSide = 16;
    /// <summary>The newer parts' lengths grow by this factor: a change is found at most a quarter
    /// later than with every split checked, and the union bound is over ~25 splits instead of t.</summary>
    public const double Growth = 1.25;

    /// <summary>Per user (null: one key for all), the stream positions of their values and the prefix sums.</summary>
    readonly Dictionary<string, (List<int> Positions, List<double> Prefix)> users = new(StringComparer.Ordinal);

    /// <summary>Values seen.</summary>
    public int Count { get; private set; }
    /// <summary>Index (0-based, into the stream) of the window's first value: 0 until the first cut,
    /// then the first value after the newest change found.</summary>
    public int WindowStart { get; private set; }
    public int Cuts { get; private set; }

    /// <summary>Adds a value of <paramref name="user"/> (null: no user, one key for all of them);
    /// true when it made the window shrink (a change was found).</summary>
    public bool Add(double y, string? user = null)
    {
        if (!(y >= 0 && y <= 1)) throw new ArgumentOutOfRangeException(nameof(y), y, "the detector takes values in [0, 1]");
        if (!users.TryGetValue(user ?? "", out var values)) users[user ?? ""] = values = ([], [0]);
        values.Positions.Add(Count);
        values.Prefix.Add(values.Prefix[^1] + y);
        Count++;
        bool cut = false;
        // As ADWIN: shrink until no split of what is left differs.
        while (TrySplit(out int at))
        {
            WindowStart = at;
            Cuts++;
            cut = true;
        }
        return cut;
    }

    /// <summary>Whether a split of the grid differs; if so, where the change is (<see cref="ChangePoint"/>).</summary>
    bool TrySplit(out int at)
    {
        at = 0;
        int t = Count, width = t - WindowStart;
        var lengths = NewerLengths(width);
        if (lengths.Count == 0) return false;
        double x = Math.Log(lengths.Count * (double)t * (t + 1.0) / delta);
        for (int i = lengths.Count - 1; i >= 0; i--)
        {
            double sum = Statistic(t - lengths[i], out int k);
            if (k > 0 && sum > k + 2 * Math.Sqrt(k * x) + 2 * x)
            {
                at = ChangePoint(width);
                return true;
            }
        }
        return false;
    }

    /// <summary>Where the change is, once a split of the grid has shown there is one: the split, of all
    /// of the window's, with the largest statistic. Before the change the newer part's differences are
    /// diluted by old values, after it the part is shorter, so the statistic peaks at the change; the
    /// grid's own split can reach up to a quarter of its length back before it. The decision to cut
    /// is the grid's alone, so this search spends no error.</summary>
    int ChangePoint(int width)
    {
        int t = Count, best = t - MinSide;
        double bestStatistic = -1;
        for (int n1 = MinSide; n1 <= width - MinSide; n1++)
        {
            double statistic = Statistic(t - n1, out _);
            if (statistic > bestStatistic) (bestStatistic, best) = (statistic, t - n1);
        }
        return best;
    }

    /// <summary>Σ_u D_u²/σ_u² over the users with values on both sides of <paramref name="split"/> (k of them).</summary>
    double Statistic(int split, out int k)
    {
        double sum = 0;
        k = 0;
        foreach (var (positions, prefix) in users.Values)
        {
            int from = LowerBound(positions, WindowStart), middle = LowerBound(positions, split), end = positions.Count;
            int n0 = middle - from, n1 = end - middle;
            if (n0 == 0 || n1 == 0) continue;
            double d = (prefix[middle] - prefix[from]) / n0 - (prefix[end] - prefix[middle]) / n1;
            sum += d * d / ((1.0 / n0 + 1.0 / n1) / 4);
            k++;
        }
        return sum;
    }

    /// <summary>The newer parts' lengths checked in a window of <paramref name="width"/> values, ascending.</summary>
    public static List<int> NewerLengths(int width)
    {
        var lengths = new List<int>();
        for (double n = MinSide; n <= width - MinSide; n = Math.Max(n * Growth, n + 1)) lengths.Add((int)n);
        return lengths;
    }

    /// <summary>The first index whose position is at least <paramref name="position"/>.</summary>
    static int LowerBound(List<int> positions, int position)
    {
        int lo = 0, hi = positions.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (positions[mid] < position) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
