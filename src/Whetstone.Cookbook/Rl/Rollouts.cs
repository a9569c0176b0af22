using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Rl;

/// <summary>Plays env groups to the end with one sampler. All envs advance turn by turn
/// together; envs that see the same observation (a group's first turn) share one sample request
/// with num_samples = their count, so the service prefills the prompt once. Every request is
/// submitted before any result is awaited, so the service decodes them in one batch.</summary>
public static class Rollouts
{
    /// <param name="seed">With the same seed, sampler weights and envs the episodes are the same
    /// (each request's seed is derived from it, the turn and the request's place).</param>
    /// <param name="includeRouting">Keep each sample's routed experts on its transition (MoE
    /// models, for routing replay in training).</param>
    public static async Task<IReadOnlyList<TrajectoryGroup>> RunAsync(SamplingClient sampler, int samplerVersion, IReadOnlyList<IEnvGroupBuilder> groups,
        SamplingParams parameters, int seed, CancellationToken cancellationToken = default, bool includeRouting = false)
    {
        var envs = groups.Select(g => g.MakeEnvs()).ToArray();
        var episodes = envs.SelectMany((groupEnvs, g) => groupEnvs.Select(env => new Episode(g, env, env.InitialObservation()))).ToList();
        for (int turn = 0; ; turn++)
        {
            var active = episodes.Where(e => !e.Done).ToList();
            if (active.Count == 0) break;
            var buckets = active.GroupBy(e => string.Join(',', e.Observation.Tokens)).Select(b => b.ToList()).ToList();
            var futures = new List<ApiFuture<SampleOutput>>();
            for (int b = 0; b < buckets.Count; b++)
            {
                var observation = buckets[b][0].Observation;
                var requestParams = parameters with { StopTokenIds = observation.StopTokenIds, Seed = unchecked(seed * 92_821 + turn * 1_009 + b) };
                futures.Add(await sampler.SampleAsync(ModelInput.FromTokens(observation.Tokens), buckets[b].Count, requestParams, cancellationToken: cancellationToken, includeRouting: includeRouting));
            }
            for (int b = 0; b < buckets.Count; b++)
            {
                var output = await futures[b].ResultAsync(cancellationToken);
                for (int i = 0; i < buckets[b].Count; i++)
                    buckets[b][i].Act(output.Sequences[i]);
            }
        }
        return episodes.GroupBy(e => e.Group).OrderBy(g => g.Key)
            .Select(g => new TrajectoryGroup(g.Select(e => new Trajectory(e.Transitions)).ToArray(), samplerVersion)).ToArray();
    }

    sealed class Episode(int group, IEnv env, Observation first)
    {
        public int Group { get; } = group;
        public Observation Observation { get; private set; } = first;
        public List<Transition> Transitions { get; } = [];
        public bool Done { get; private set; }

        public void Act(SampledSequence sample)
        {
            var result = env.Step(sample.Tokens);
            Transitions.Add(new Transition(Observation, sample.Tokens, sample.Logprobs, result) { Routing = sample.RoutedExperts });
            if (result.Done || result.Next is null) Done = true;
            else Observation = result.Next;
        }
    }
}
