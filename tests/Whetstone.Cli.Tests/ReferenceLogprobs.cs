using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Cli.Tests;

/// <summary>log p(token | prefix) computed here from the engine's raw logits of one fp32 full
/// forward pass, with the log-softmax done in double precision in C#: the reference the CLI's
/// logprobs and sampler are held to.</summary>
internal static class ReferenceLogprobs
{
    /// <summary>Logits of every position, [T][V], as doubles.</summary>
    public static double[][] Logits(string modelDirectory, IReadOnlyList<int> tokens)
    {
        using var model = PretrainedModel.Load(modelDirectory, ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0);
        var logits = model.Network.Logits(model.Network.Forward(input))[0].to(ScalarType.Float64);   // [T, V]
        int vocab = (int)logits.shape[1];
        var flat = logits.data<double>().ToArray();
        return Enumerable.Range(0, tokens.Count).Select(t => flat.AsSpan(t * vocab, vocab).ToArray()).ToArray();
    }

    /// <summary>Entry t is log p(tokens[t] | tokens[..t]); entry 0 is null.</summary>
    public static double?[] Of(string modelDirectory, IReadOnlyList<int> tokens)
    {
        var logits = Logits(modelDirectory, tokens);
        var result = new double?[tokens.Count];
        for (int t = 1; t < tokens.Count; t++) result[t] = LogSoftmax(logits[t - 1], tokens[t]);
        return result;
    }

    public static double LogSoftmax(double[] logits, int token)
    {
        double max = logits.Max();
        return logits[token] - max - Math.Log(logits.Sum(l => Math.Exp(l - max)));
    }
}
