namespace Whetstone.Cookbook.Rl;

/// <summary>A GRPO group: <paramref name="groupSize"/> independent attempts at one problem.</summary>
public sealed class ProblemGroupBuilder(EnvProblem problem, int groupSize) : IEnvGroupBuilder
{
    public string Description => problem.Description;

    public IReadOnlyList<IEnv> MakeEnvs() => Enumerable.Range(0, groupSize).Select(_ => problem.MakeEnv()).ToArray();
}
