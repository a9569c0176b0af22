using System.Diagnostics;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>Where one batch-1 decode step spends its time: the whole step against its
/// matmuls alone at the same shapes (the floor a decode step cannot beat).</summary>
internal static class DecodeProfile
{
    public static void Run(PretrainedModel model, int rows = 1, int steps = 32)
    {
        var network = model.Network;
        var c = model.Config;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var cache = network.CreateCache(rows, 16 + steps + 1);
        var prompt = arange(16, dtype: ScalarType.Int64).unsqueeze(0).expand(rows, -1);
        network.Forward(prompt, prompt, cache);
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < steps; s++)
        {
            using var step = NewDisposeScope();
            var position = full([rows, 1], 16 + s, ScalarType.Int64);
            network.Logits(network.Forward(full([rows, 1], 5L, ScalarType.Int64), position, cache)).argmax(-1)[0].item<long>();
        }
        double perStep = clock.Elapsed.TotalMilliseconds / steps;
        clock.Restart();
        for (int s = 0; s < steps; s++)
        {
            using var step = NewDisposeScope();
            network.Forward(full([rows, 1], 5L, ScalarType.Int64), full([rows, 1], 16 + s, ScalarType.Int64));
        }
        double noCache = clock.Elapsed.TotalMilliseconds / steps;
        var hidden = randn(rows, 1, c.HiddenSize).to(network.Dtype);
        clock.Restart();
        for (int s = 0; s < steps; s++)
        {
            using var step = NewDisposeScope();
            network.Logits(hidden).argmax(-1)[0].item<long>();
        }
        double logits = clock.Elapsed.TotalMilliseconds / steps;
        Console.Write($"[one-token forward without cache {noCache:F2} ms, logits+argmax {logits:F2} ms] ");

        // The same matmuls on their own, through the path the layers take (the AVX-512 kernel where
        // it applies, else torch).
        var x = randn(rows, 1, c.HiddenSize).to(network.Dtype);
        var xi = randn(rows, 1, c.IntermediateSize).to(network.Dtype);
        var weights = network.named_parameters().Where(p => p.parameter.dim() == 2 && !p.name.Contains("embed")).Select(p => p.parameter).ToList();
        clock.Restart();
        for (int s = 0; s < steps; s++)
        {
            using var step = NewDisposeScope();
            foreach (var w in weights) Linear(w.shape[1] == c.HiddenSize ? x : xi, w);
            if (c.TieWordEmbeddings) Linear(x, network.named_parameters().First(p => p.name.Contains("embed")).parameter);
        }
        double matmulsOnly = clock.Elapsed.TotalMilliseconds / steps;
        string path = DecodeMatmul.Applies(x, weights[0]) ? $"{DecodeInstructionSet.Current} kernel" : "torch";
        Console.WriteLine($"decode step {perStep:F2} ms, its matmuls alone ({path}) {matmulsOnly:F2} ms ({weights.Count} weight matrices), overhead {perStep - matmulsOnly:F2} ms");
    }

    static Tensor Linear(Tensor x, Tensor w) => DecodeMatmul.Applies(x, w) ? DecodeMatmul.Linear(x, w, null) : nn.functional.linear(x, w);
}
