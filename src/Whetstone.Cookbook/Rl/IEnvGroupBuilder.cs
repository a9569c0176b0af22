namespace Whetstone.Cookbook.Rl;

/// <summary>Makes the envs of one group: the G attempts at one problem whose rewards are
/// compared with each other (GRPO), or the players of one self-play game.</summary>
public interface IEnvGroupBuilder
{
    /// <summary>A name for the logs (e.g. the question).</summary>
    string Description { get; }

    IReadOnlyList<IEnv> MakeEnvs();
}
