namespace Whetstone.Cookbook.Rl;

/// <summary>Batches of <paramref name="groupsPerBatch"/> groups of <paramref name="groupSize"/>
/// attempts, drawn from the training split of <paramref name="source"/>; batch i is drawn from
/// its own random stream (seed, i), so any batch can be made again without the ones before.</summary>
public sealed class ProblemDataset(IProblemSource source, int groupsPerBatch, int groupSize, long seed) : IRlDataset
{
    public IReadOnlyList<IEnvGroupBuilder> GetBatch(int index)
    {
        var random = new Random(unchecked((int)seed * 1_000_003 + index * 7_919));
        return Enumerable.Range(0, groupsPerBatch).Select(_ => (IEnvGroupBuilder)new ProblemGroupBuilder(source.Draw(random, heldOut: false), groupSize)).ToArray();
    }

    /// <summary>The first <paramref name="count"/> held-out problems of <paramref name="source"/>
    /// for seed <paramref name="seed"/>: the same every time, for evals before and after.</summary>
    public static IReadOnlyList<EnvProblem> HeldOut(IProblemSource source, int count, long seed)
    {
        var random = new Random(unchecked((int)seed ^ 0x5eed));
        return Enumerable.Range(0, count).Select(_ => source.Draw(random, heldOut: true)).ToArray();
    }
}
