namespace Whetstone.Cookbook.Rl;

/// <summary>Batches of env groups for the RL loop. A batch is a pure function of its index, so a
/// resumed run sees the groups the uninterrupted one would have.</summary>
public interface IRlDataset
{
    IReadOnlyList<IEnvGroupBuilder> GetBatch(int index);
}
