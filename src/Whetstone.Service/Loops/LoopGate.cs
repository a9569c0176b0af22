using Whetstone.Protocol;

namespace Whetstone.Service.Loops;

/// <summary>The eval gate: candidate and deployed version answer the same held-out served prompts
/// and the owner's regression suite greedily; the candidate passes when its mean reward is at least
/// the deployed version's minus the tolerance and it fails at most MaxRegressions checks that the
/// deployed version passes. It must also be worth a canary: its held-out reward at least
/// MinImprovement above the deployed version's, and at least MinChangedAnswers of its greedy
/// answers different from the deployed version's (a candidate that answers everything as the
/// deployed one does is a no-op, however its reward compares). Never passes on no evidence.</summary>
internal sealed class LoopGate(LoopSampling sampling, LoopReward reward)
{
    public sealed record Verdict(bool Passed, string Reason, Dictionary<string, double> Metrics);

    public async Task<Verdict> JudgeAsync(string candidatePath, string deployedPath, IReadOnlyList<IReadOnlyList<int>> heldOut, LoopGateSettings gate,
        CancellationToken cancellationToken)
    {
        var metrics = new Dictionary<string, double>();
        var prompts = heldOut.Take(gate.HeldOutPrompts).ToArray();
        var suite = gate.RegressionSuite ?? [];
        if (prompts.Length == 0 && suite.Count == 0) return new Verdict(false, "no held-out prompts and no regression suite to judge the candidate on", metrics);

        string candidate = await sampling.OpenAsync(candidatePath), deployed = await sampling.OpenAsync(deployedPath);
        try
        {
            var reasons = new List<string>();
            bool passed = true;
            int changed = 0;
            if (prompts.Length > 0)
            {
                var candidateAnswers = await GreedyAsync(candidate, prompts, gate.MaxTokens);
                var deployedAnswers = await GreedyAsync(deployed, prompts, gate.MaxTokens);
                changed += candidateAnswers.Zip(deployedAnswers).Count(p => !p.First.SequenceEqual(p.Second));
                var candidateScores = await reward.ScoreAsync(Pairs(prompts, candidateAnswers), cancellationToken);
                var deployedScores = await reward.ScoreAsync(Pairs(prompts, deployedAnswers), cancellationToken);
                double c = candidateScores.Average(), d = deployedScores.Average();
                metrics["gate_candidate_reward"] = c;
                metrics["gate_deployed_reward"] = d;
                metrics["gate_prompts"] = prompts.Length;
                var (heldOutPassed, heldOutReason) = HeldOutVerdict(c, d, gate);
                passed &= heldOutPassed;
                reasons.Add(heldOutReason);
            }
            if (suite.Count > 0)
            {
                int regressions = 0, candidatePasses = 0, deployedPasses = 0;
                var broken = new List<string>();
                foreach (var check in suite)
                {
                    var prompt = sampling.UserPrompt(check.Prompt);
                    string candidateText = await GreedyTextAsync(candidate, prompt, gate.MaxTokens), deployedText = await GreedyTextAsync(deployed, prompt, gate.MaxTokens);
                    changed += candidateText == deployedText ? 0 : 1;
                    bool c = Passes(check, candidateText);
                    bool d = Passes(check, deployedText);
                    candidatePasses += c ? 1 : 0;
                    deployedPasses += d ? 1 : 0;
                    if (d && !c)
                    {
                        regressions++;
                        broken.Add($"'{check.Prompt}' → '{Shorten(candidateText)}'");
                    }
                }
                metrics["suite_candidate_passes"] = candidatePasses;
                metrics["suite_deployed_passes"] = deployedPasses;
                metrics["suite_regressions"] = regressions;
                if (regressions > gate.MaxRegressions)
                {
                    passed = false;
                    reasons.Add($"regression suite: {regressions} check(s) the deployed version passes now fail (at most {gate.MaxRegressions}): {string.Join(", ", broken)}");
                }
                else reasons.Add($"regression suite: {candidatePasses}/{suite.Count} pass (deployed {deployedPasses})");
            }
            metrics["gate_changed_answers"] = changed;
            if (changed < gate.MinChangedAnswers)
            {
                passed = false;
                reasons.Add($"{changed} of {prompts.Length + suite.Count} greedy answers differ from the deployed version's (at least {gate.MinChangedAnswers}): a no-op candidate");
            }
            return new Verdict(passed, string.Join("; ", reasons), metrics);
        }
        finally
        {
            await sampling.CloseAsync(candidate);
            await sampling.CloseAsync(deployed);
        }
    }

    /// <summary>A failed check's answer as the reason shows it: one line, at most 160 characters.</summary>
    static string Shorten(string text)
    {
        string line = text.Replace("\n", " / ", StringComparison.Ordinal);
        return line.Length <= 160 ? line : line[..160] + "…";
    }

    public static bool Passes(RegressionCheck check, string text) =>
        (check.ExpectContains is null || text.Contains(check.ExpectContains, StringComparison.Ordinal))
        && (check.ExpectNotContains is null || !text.Contains(check.ExpectNotContains, StringComparison.Ordinal));

    async Task<IReadOnlyList<int>[]> GreedyAsync(string session, IReadOnlyList<IReadOnlyList<int>> prompts, int maxTokens) =>
        (await Task.WhenAll(prompts.Select(p => sampling.SampleAsync(session, p, 1, maxTokens, 0, 0)))).Select(a => a[0].Tokens).ToArray();

    static (IReadOnlyList<int>, IReadOnlyList<int>)[] Pairs(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<int>[] answers) =>
        prompts.Select((p, i) => (p, answers[i])).ToArray();

    async Task<string> GreedyTextAsync(string session, IReadOnlyList<int> prompt, int maxTokens) =>
        sampling.Text((await sampling.SampleAsync(session, prompt, 1, maxTokens, 0, 0))[0].Tokens);

    /// <summary>The held-out reward part of the verdict: refused when the candidate is worse than the
    /// deployed version by more than Tolerance, or, when MinImprovement is set, not better by at least
    /// that. With MinImprovement 0 a candidate within Tolerance passes (it used to be refused whenever
    /// it scored below the deployed version, whatever the tolerance, contrary to the settings' docs).</summary>
    internal static (bool Passed, string Reason) HeldOutVerdict(double candidate, double deployed, LoopGateSettings gate)
    {
        if (candidate < deployed - gate.Tolerance)
            return (false, $"held-out reward {candidate:F3} < deployed {deployed:F3} − tolerance {gate.Tolerance}");
        if (gate.MinImprovement > 0 && candidate < deployed + gate.MinImprovement)
            return (false, $"held-out reward {candidate:F3} not above deployed {deployed:F3} by the minimum improvement {gate.MinImprovement}");
        return (true, $"held-out reward {candidate:F3} vs deployed {deployed:F3}");
    }
}
