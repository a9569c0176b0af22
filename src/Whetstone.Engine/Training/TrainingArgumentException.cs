namespace Whetstone.Engine.Training;

/// <summary>Bad training input; <see cref="Field"/> names what to fix (e.g. "data[2].loss_fn_inputs.weights").
/// Thrown before anything is computed, so no state has changed.</summary>
public sealed class TrainingArgumentException(string field, string reason) : ArgumentException($"{field} {reason}")
{
    public string Field { get; } = field;
}
