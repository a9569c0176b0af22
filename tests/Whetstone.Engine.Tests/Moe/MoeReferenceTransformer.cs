using Whetstone.Engine.Formats;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>An independent, naive fp64 implementation of DeepSeek-V3 / Kimi K2 (MLA + routed
/// experts) and Qwen3-MoE, in plain loops over the checkpoint's own tensors, written from the
/// published modeling code's equations. It shares nothing with the engine's network but the
/// safetensors reader. Two deliberate differences of form: RoPE turns DeepSeek's adjacent pairs
/// (x₂ᵢ, x₂ᵢ₊₁) in place instead of regrouping them first (dot products are the same), and each
/// token runs its own experts one by one.</summary>
internal sealed class MoeReferenceTransformer
{
    readonly ModelConfig _c;
    readonly Dictionary<string, double[]> _w = new();
    int _length;

    public MoeReferenceTransformer(string directory, ModelConfig config)
    {
        _c = config;
        using var file = new SafetensorsFile(Path.Combine(directory, "model.safetensors"));
        foreach (var name in file.TensorNames)
        {
            using var t = file.Read(name).to(ScalarType.Float64);
            _w[name] = t.data<double>().ToArray();
        }
    }

    /// <summary>The experts each token chose per sparse layer: layer → [T][k], in order of score.</summary>
    public Dictionary<int, int[][]> Choices { get; } = new();

    /// <summary>DeepSeek's YaRN frequencies: a ramp over dimension-pair index between the pairs
    /// that turn beta_fast and beta_slow times over the original context (floored / ceiled).</summary>
    public static double[] InverseFrequencies(int dim, double theta, RopeScaling s)
    {
        var result = new double[dim / 2];
        double low = 0, high = 0;
        if (s.Type == "yarn")
        {
            double PairIndex(double turns) => dim * Math.Log(s.OriginalMaxPositionEmbeddings / (turns * 2 * Math.PI)) / (2 * Math.Log(theta));
            low = Math.Max(0, Math.Floor(PairIndex(s.BetaFast)));
            high = Math.Min(dim - 1, Math.Ceiling(PairIndex(s.BetaSlow)));
            if (high == low) high += 0.001;
        }
        for (int i = 0; i < result.Length; i++)
        {
            double f = 1.0 / Math.Pow(theta, 2.0 * i / dim);
            if (s.Type == "yarn")
            {
                double interpolated = Math.Min(1, Math.Max(0, (i - low) / (high - low)));   // 0: keep, 1: divide by factor
                f = f * (1 - interpolated) + f / s.Factor * interpolated;
            }
            result[i] = f;
        }
        return result;
    }

    static double Mscale(double factor, double m) => factor <= 1 ? 1 : 0.1 * m * Math.Log(factor) + 1;

    /// <summary>Logits [T][V] for one sequence.</summary>
    public double[][] Logits(int[] tokens)
    {
        int T = tokens.Length, H = _c.HiddenSize;
        _length = T;
        Choices.Clear();
        var x = new double[T][];
        for (int t = 0; t < T; t++) x[t] = _w["model.embed_tokens.weight"].Skip(tokens[t] * H).Take(H).ToArray();
        for (int l = 0; l < _c.NumHiddenLayers; l++)
        {
            string p = $"model.layers.{l}";
            var normed = x.Select(row => Norm(row, _w[$"{p}.input_layernorm.weight"], _c.RmsNormEps)).ToArray();
            var attended = _c.Mla is null ? GroupedQueryAttention(normed, p) : LatentAttention(normed, p, _c.Mla);
            for (int t = 0; t < T; t++) x[t] = Add(x[t], attended[t]);
            for (int t = 0; t < T; t++)
            {
                var h = Norm(x[t], _w[$"{p}.post_attention_layernorm.weight"], _c.RmsNormEps);
                bool sparse = _c.Moe is MoeShape moe && moe.IsSparseLayer(l);
                x[t] = Add(x[t], sparse ? Experts(h, $"{p}.mlp", l, t) : SwiGlu(h, $"{p}.mlp", _c.IntermediateSize));
            }
        }
        var outputName = _c.TieWordEmbeddings ? "model.embed_tokens" : "lm_head";
        return x.Select(row => Linear(Norm(row, _w["model.norm.weight"], _c.RmsNormEps), outputName, _c.VocabSize)).ToArray();
    }

    double[][] LatentAttention(double[][] h, string p, MlaShape m)
    {
        int T = h.Length, nH = _c.NumAttentionHeads, nope = m.QkNopeHeadDim, rope = m.QkRopeHeadDim, dv = m.VHeadDim, rank = m.KvLoraRank;
        var inv = InverseFrequencies(rope, _c.RopeTheta, _c.RopeScaling);
        var s = _c.RopeScaling;
        double cosSinFactor = s.Type == "yarn" ? Mscale(s.Factor, s.Mscale) / Mscale(s.Factor, s.MscaleAllDim) : 1;
        double scale = 1 / Math.Sqrt(nope + rope);
        if (s.Type == "yarn" && s.MscaleAllDim != 0) scale *= Mscale(s.Factor, s.MscaleAllDim) * Mscale(s.Factor, s.MscaleAllDim);

        var q = new double[T][]; var keyRope = new double[T][]; var kv = new double[T][];
        for (int t = 0; t < T; t++)
        {
            q[t] = m.QLoraRank is int qr
                ? Linear(Norm(Linear(h[t], $"{p}.self_attn.q_a_proj", qr), _w[$"{p}.self_attn.q_a_layernorm.weight"], 1e-6), $"{p}.self_attn.q_b_proj", nH * (nope + rope))
                : Linear(h[t], $"{p}.self_attn.q_proj", nH * (nope + rope));
            var compressed = Linear(h[t], $"{p}.self_attn.kv_a_proj_with_mqa", rank + rope);
            keyRope[t] = RotateAdjacentPairs(compressed[rank..], t, inv, cosSinFactor);
            kv[t] = Linear(Norm(compressed[..rank], _w[$"{p}.self_attn.kv_a_layernorm.weight"], 1e-6), $"{p}.self_attn.kv_b_proj", nH * (nope + dv));
        }
        var result = new double[T][];
        for (int t = 0; t < T; t++)
        {
            var concat = new double[nH * dv];
            for (int head = 0; head < nH; head++)
            {
                var qHead = q[t][(head * (nope + rope))..((head + 1) * (nope + rope))];
                var qRope = RotateAdjacentPairs(qHead[nope..], t, inv, cosSinFactor);
                var scores = new double[t + 1];
                for (int u = 0; u <= t; u++)
                {
                    var kNope = kv[u][(head * (nope + dv))..(head * (nope + dv) + nope)];
                    scores[u] = (Dot(qHead[..nope], kNope) + Dot(qRope, keyRope[u])) * scale;
                }
                var weights = Softmax(scores);
                for (int u = 0; u <= t; u++)
                    for (int d = 0; d < dv; d++) concat[head * dv + d] += weights[u] * kv[u][head * (nope + dv) + nope + d];
            }
            result[t] = Linear(concat, $"{p}.self_attn.o_proj", _c.HiddenSize);
        }
        return result;
    }

    // Qwen3(-MoE) attention: per-head RMSNorm on q and k, rotate-half RoPE, grouped K/V heads.
    double[][] GroupedQueryAttention(double[][] h, string p)
    {
        int T = h.Length, D = _c.HeadDim, nH = _c.NumAttentionHeads, nKv = _c.NumKeyValueHeads;
        var inv = InverseFrequencies(D, _c.RopeTheta, _c.RopeScaling);
        var sc = _c.RopeScaling;
        double factor = sc.Type == "yarn" ? Mscale(sc.Factor, sc.Mscale) / Mscale(sc.Factor, sc.MscaleAllDim) : 1;
        var q = new double[T][][]; var k = new double[T][][]; var v = new double[T][][];
        for (int t = 0; t < T; t++)
        {
            var qa = Linear(h[t], $"{p}.self_attn.q_proj", nH * D);
            var ka = Linear(h[t], $"{p}.self_attn.k_proj", nKv * D);
            var va = Linear(h[t], $"{p}.self_attn.v_proj", nKv * D);
            q[t] = Enumerable.Range(0, nH).Select(i => RotateHalves(Norm(qa[(i * D)..((i + 1) * D)], _w[$"{p}.self_attn.q_norm.weight"], _c.RmsNormEps), t, inv, factor)).ToArray();
            k[t] = Enumerable.Range(0, nKv).Select(i => RotateHalves(Norm(ka[(i * D)..((i + 1) * D)], _w[$"{p}.self_attn.k_norm.weight"], _c.RmsNormEps), t, inv, factor)).ToArray();
            v[t] = Enumerable.Range(0, nKv).Select(i => va[(i * D)..((i + 1) * D)]).ToArray();
        }
        var result = new double[T][];
        for (int t = 0; t < T; t++)
        {
            var concat = new double[nH * D];
            for (int head = 0; head < nH; head++)
            {
                int kvHead = head / (nH / nKv);
                var weights = Softmax(Enumerable.Range(0, t + 1).Select(u => Dot(q[t][head], k[u][kvHead]) / Math.Sqrt(D)).ToArray());
                for (int u = 0; u <= t; u++)
                    for (int d = 0; d < D; d++) concat[head * D + d] += weights[u] * v[u][kvHead][d];
            }
            result[t] = Linear(concat, $"{p}.self_attn.o_proj", _c.HiddenSize);
        }
        return result;
    }

    double[] Experts(double[] h, string p, int layer, int t)
    {
        var m = _c.Moe!;
        int E = m.RoutedExperts, k = m.ExpertsPerToken;
        var logits = Linear(h, $"{p}.gate", E);
        double[] scores = m.Scoring == RouterScoring.Softmax ? Softmax(logits) : logits.Select(z => 1 / (1 + Math.Exp(-z))).ToArray();
        var choice = (double[])scores.Clone();
        if (_w.TryGetValue($"{p}.gate.e_score_correction_bias", out var bias))
            for (int e = 0; e < E; e++) choice[e] += bias[e];
        if (m.NGroup > 1)
        {
            int size = E / m.NGroup;
            var groupScore = Enumerable.Range(0, m.NGroup)
                .Select(g => choice[(g * size)..((g + 1) * size)].OrderByDescending(z => z).Take(2).Sum()).ToArray();
            var kept = Enumerable.Range(0, m.NGroup).OrderByDescending(g => groupScore[g]).Take(m.TopkGroup).ToHashSet();
            for (int e = 0; e < E; e++) if (!kept.Contains(e / size)) choice[e] = 0.0;
        }
        var chosen = Enumerable.Range(0, E).OrderByDescending(e => choice[e]).Take(k).ToArray();
        if (!Choices.TryGetValue(layer, out var perToken)) Choices[layer] = perToken = new int[_length][];
        perToken[t] = chosen;
        var gates = chosen.Select(e => scores[e]).ToArray();
        if (m.NormTopkProb && (m.Scoring == RouterScoring.Softmax || k > 1))
        {
            double sum = gates.Sum();
            gates = gates.Select(g => g / sum).ToArray();
        }
        var y = new double[h.Length];
        for (int j = 0; j < k; j++)
        {
            var expert = SwiGlu(h, $"{p}.experts.{chosen[j]}", m.MoeIntermediateSize);
            for (int i = 0; i < y.Length; i++) y[i] += gates[j] * m.RoutedScalingFactor * expert[i];
        }
        if (m.SharedExperts > 0) y = Add(y, SwiGlu(h, $"{p}.shared_experts", m.SharedExperts * m.MoeIntermediateSize));
        return y;
    }

    double[] SwiGlu(double[] h, string p, int width)
    {
        var gate = Linear(h, $"{p}.gate_proj", width);
        var up = Linear(h, $"{p}.up_proj", width);
        return Linear(gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray(), $"{p}.down_proj", h.Length);
    }

    // DeepSeek's rope layout: pair (x₂ᵢ, x₂ᵢ₊₁) turned by position · inv_freq[i].
    static double[] RotateAdjacentPairs(double[] x, int position, double[] inv, double factor)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length / 2; i++)
        {
            double c = Math.Cos(position * inv[i]) * factor, s = Math.Sin(position * inv[i]) * factor;
            y[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
            y[2 * i + 1] = x[2 * i + 1] * c + x[2 * i] * s;
        }
        return y;
    }

    static double[] RotateHalves(double[] x, int position, double[] inv, double factor)
    {
        int half = x.Length / 2;
        var y = new double[x.Length];
        for (int i = 0; i < half; i++)
        {
            double c = Math.Cos(position * inv[i]) * factor, s = Math.Sin(position * inv[i]) * factor;
            y[i] = x[i] * c - x[i + half] * s;
            y[i + half] = x[i + half] * c + x[i] * s;
        }
        return y;
    }

    static double[] Norm(double[] x, double[] weight, double eps)
    {
        double rms = Math.Sqrt(x.Select(z => z * z).Average() + eps);
        return x.Select((z, i) => z / rms * weight[i]).ToArray();
    }

    double[] Linear(double[] x, string name, int outFeatures)
    {
        var w = _w[name + ".weight"];
        var y = new double[outFeatures];
        for (int o = 0; o < outFeatures; o++)
        {
            double sum = 0;
            for (int i = 0; i < x.Length; i++) sum += w[o * x.Length + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    static double[] Softmax(double[] z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    static double Dot(double[] a, double[] b) => a.Select((z, i) => z * b[i]).Sum();
    static double[] Add(double[] a, double[] b) => a.Select((z, i) => z + b[i]).ToArray();
}
