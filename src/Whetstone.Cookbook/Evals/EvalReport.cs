namespace Whetstone.Cookbook.Evals;

/// <summary>What an eval measured: accuracy (share of exact answers) for the answer sets, mean
/// NLL per answer token for "nll"; with the number of examples and a few samples to look at.</summary>
public sealed record EvalReport(string Set, int Examples, double? Accuracy, double? Nll, IReadOnlyList<string> Samples);
