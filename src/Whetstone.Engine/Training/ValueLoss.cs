using static TorchSharp.torch;

namespace Whetstone.Engine.Training;

/// <summary>The losses of a reward model's scalar values v (one per sequence), summed like the
/// token losses: "bradley_terry" over pairs laid out [chosen, rejected, chosen, rejected, …],
/// Σ −log σ(v_c − v_r); "binary_logistic" over thumbs up (label 1) / down (label 0), Σ
/// −[y log σ(v) + (1 − y) log(1 − σ(v))] = Σ softplus(v) − y·v (labels in [0, 1]; a fractional
/// label such as a scaled rating makes it a regression of σ(v) onto the label). Optional
/// non-negative weights scale each term (a Bradley-Terry pair takes its chosen entry's weight),
/// so a caller can cap how much any one source contributes to a step.</summary>
public sealed record ValueLoss(ValueLoss.Kind Function)
{
    public enum Kind { BradleyTerry, BinaryLogistic }

    public const string BradleyTerryName = "bradley_terry";
    public const string BinaryLogisticName = "binary_logistic";

    public static bool IsValueLoss(string? name) => name is BradleyTerryName or BinaryLogisticName;

    public static ValueLoss Parse(string name) => name switch
    {
        BradleyTerryName => new ValueLoss(Kind.BradleyTerry),
        BinaryLogisticName => new ValueLoss(Kind.BinaryLogistic),
        _ => throw new TrainingArgumentException("loss_fn", $"'{name}' is not a value-head loss ({BradleyTerryName}, {BinaryLogisticName})"),
    };

    public string Name => Function == Kind.BradleyTerry ? BradleyTerryName : BinaryLogisticName;

    public bool NeedsLabels => Function == Kind.BinaryLogistic;

    /// <summary>values: [n], carrying the gradient; labels: [n] constants (binary_logistic only);
    /// weights: [n] constants or null (all 1).</summary>
    public Tensor Compute(Tensor values, Tensor? labels, Tensor? weights = null)
    {
        if (Function == Kind.BradleyTerry)
        {
            var pairs = values.view(-1, 2);                                   // [pairs, (chosen, rejected)]
            var terms = nn.functional.softplus(pairs[.., 1] - pairs[.., 0]);  // −log σ(v_c − v_r)
            return (weights is null ? terms : terms * weights.view(-1, 2)[.., 0]).sum();
        }
        var logistic = nn.functional.softplus(values) - labels! * values;
        return (weights is null ? logistic : logistic * weights).sum();
    }

    /// <summary>BT: share of pairs with v_c &gt; v_r. Logistic: share with v &gt; 0 exactly when label &gt; ½.</summary>
    public double Accuracy(IReadOnlyList<double> values, IReadOnlyList<float>? labels)
    {
        int correct = 0, total = 0;
        if (Function == Kind.BradleyTerry)
            for (int p = 0; p + 1 < values.Count; p += 2, total++) { if (values[p] > values[p + 1]) correct++; }
        else
            for (int i = 0; i < values.Count; i++, total++) { if (values[i] > 0 == labels![i] > 0.5f) correct++; }
        return total == 0 ? 0 : (double)correct / total;
    }
}
