using Whetstone.Protocol;

namespace Whetstone.Service.Loops;

/// <summary>The eval gate: candidate and deployed version answer the same held-out served prompts
/// and the owner's regression suite greedily; the candidate passes when its mean reward is at least
/// the deployed version's minus the tolerance and it fails at most MaxRegressions checks that the
/// deployed version passes. Never passes on no evidence.</summary>
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
            if (prompts.Length > 0)
            {
                var candidateScores = await ScoreAsync(candidate, prompts, gate.MaxTokens, cancellationToken);
                var deployedScores = await ScoreAsync(deployed, prompts, gate.MaxTokens, cancellationToken);
                double c = candidateScores.Average(), d = deployedScores.Average();
                metrics["gate_candidate_reward"] = c;
                metrics["gate_deployed_reward"] = d;
                metrics["gate_prompts"] = prompts.Length;
                if (c < d - gate.Tolerance)
                {
                    passed = false;
                    reasons.Add($"held-out reward {c:F3} < deployed {d:F3} − tolerance {gate.Tolerance}");
                }
                else reasons.Add($"held-out reward {c:F3} vs deployed {d:F3}");
            }
            if (suite.Count > 0)
            {
                int regressions = 0, candidatePasses = 0, deployedPasses = 0;
                foreach (var check in suite)
                {
                    var prompt = sampling.UserPrompt(check.Prompt);
                    bool c = Passes(check, await GreedyTextAsync(candidate, prompt, gate.MaxTokens));
                    bool d = Passes(check, await GreedyTextAsync(deployed, prompt, gate.MaxTokens));
                    candidatePasses += c ? 1 : 0;
                    deployedPasses += d ? 1 : 0;
                    if (d && !c) regressions++;
                }
                metrics["suite_candidate_passes"] = candidatePasses;
                metrics["suite_deployed_passes"] = deployedPasses;
                metrics["suite_regressions"] = regressions;
                if (regressions > gate.MaxRegressions)
                {
                    passed = false;
                    reasons.Add($"regression suite: {regressions} check(s) the deployed version passes now fail (at most {gate.MaxRegressions})");
                }
                else reasons.Add($"regression suite: {candidatePasses}/{suite.Count} pass (deployed {deployedPasses})");
            }
            return new Verdict(passed, string.Join("; ", reasons), metrics);
        }
        finally
        {
            await sampling.CloseAsync(candidate);
            await sampling.CloseAsync(deployed);
        }
    }

    public static bool Passes(RegressionCheck check, string text) =>
        (check.ExpectContains is null || text.Contains(check.ExpectContains, StringComparison.Ordinal))
        && (check.ExpectNotContains is null || !text.Contains(check.ExpectNotContains, StringComparison.Ordinal));

    async Task<double[]> ScoreAsync(string session, IReadOnlyList<IReadOnlyList<int>> prompts, int maxTokens, CancellationToken cancellationToken)
    {
        var answers = await Task.WhenAll(prompts.Select(p => sampling.SampleAsync(session, p, 1, maxTokens, 0, 0)));
        return await reward.ScoreAsync(prompts.Select((p, i) => (p, (IReadOnlyList<int>)answers[i][0].Tokens)).ToArray(), cancellationToken);
    }

    async Task<string> GreedyTextAsync(string session, IReadOnlyList<int> prompt, int maxTokens) =>
        sampling.Text((await sampling.SampleAsync(session, prompt, 1, maxTokens, 0, 0))[0].Tokens);
}
