using Whetstone.Engine.Formats;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models;

/// <summary>An independent, deliberately naive implementation of the decoder in plain double
/// loops, reading the checkpoint file itself: the oracle the TorchSharp network is checked
/// against. It shares no code with the engine's network beyond the safetensors reader.</summary>
internal sealed class ReferenceTransformer
{
    readonly ModelConfig _c;
    readonly Dictionary<string, double[]> _w = new();

    public ReferenceTransformer(string directory, ModelConfig config)
    {
        _c = config;
        using var file = new SafetensorsFile(Path.Combine(directory, "model.safetensors"));
        foreach (var name in file.TensorNames)
        {
            using var t = file.Read(name).to(ScalarType.Float64);
            _w[name] = t.data<double>().ToArray();
        }
    }

    /// <summary>Inverse frequencies written from Meta's description of Llama 3.1 scaling.</summary>
    public static double[] InverseFrequencies(int headDim, double theta, RopeScaling s)
    {
        var result = new double[headDim / 2];
        for (int i = 0; i < result.Length; i++)
        {
            double f = Math.Pow(theta, -(2.0 * i) / headDim);
            if (s.Type == "llama3")
            {
                double wavelength = 2 * Math.PI / f;
                double lowFreqWavelength = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
                double highFreqWavelength = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                if (wavelength > lowFreqWavelength) f /= s.Factor;
                else if (wavelength >= highFreqWavelength)
                {
                    double ratio = s.OriginalMaxPositionEmbeddings / wavelength;
                    double alpha = (ratio - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    f = (1 - alpha) * (f / s.Factor) + alpha * f;
                }
            }
            else if (s.Type == "linear") f /= s.Factor;
            result[i] = f;
        }
        return result;
    }

    /// <summary>Rotates one head vector: pair (i, i + D/2) turned by angle position · inv_freq[i].</summary>
    public static double[] Rotate(double[] x, int position, double[] inverseFrequencies)
    {
        int half = x.Length / 2;
        var y = new double[x.Length];
        for (int i = 0; i < half; i++)
        {
            double angle = position * inverseFrequencies[i];
            double c = Math.Cos(angle), s = Math.Sin(angle);
            y[i] = x[i] * c - x[i + half] * s;
            y[i + half] = x[i + half] * c + x[i] * s;
        }
        return y;
    }

    /// <summary>Logits [T][V] for one sequence.</summary>
    public double[][] Logits(int[] tokens)
    {
        int T = tokens.Length, H = _c.HiddenSize, D = _c.HeadDim, nH = _c.NumAttentionHeads, nKv = _c.NumKeyValueHeads;
        var inv = InverseFrequencies(D, _c.RopeTheta, _c.RopeScaling);
        var x = new double[T][];
        for (int t = 0; t < T; t++) x[t] = _w["model.embed_tokens.weight"].Skip(tokens[t] * H).Take(H).ToArray();

        for (int l = 0; l < _c.NumHiddenLayers; l++)
        {
            string p = $"model.layers.{l}";
            var q = new double[T][][]; var k = new double[T][][]; var v = new double[T][][];
            for (int t = 0; t < T; t++)
            {
                var h = Norm(x[t], _w[$"{p}.input_layernorm.weight"]);
                var qa = Linear(h, $"{p}.self_attn.q_proj", nH * D);
                var ka = Linear(h, $"{p}.self_attn.k_proj", nKv * D);
                var va = Linear(h, $"{p}.self_attn.v_proj", nKv * D);
                q[t] = Enumerable.Range(0, nH).Select(i => Head(qa, i, D, $"{p}.self_attn.q_norm", t, inv)).ToArray();
                k[t] = Enumerable.Range(0, nKv).Select(i => Head(ka, i, D, $"{p}.self_attn.k_norm", t, inv)).ToArray();
                v[t] = Enumerable.Range(0, nKv).Select(i => va.Skip(i * D).Take(D).ToArray()).ToArray();
            }
            var attended = new double[T][];
            for (int t = 0; t < T; t++)
            {
                var concat = new double[nH * D];
                for (int head = 0; head < nH; head++)
                {
                    int kvHead = head / (nH / nKv);
                    var scores = new double[t + 1];
                    for (int s = 0; s <= t; s++)
                        scores[s] = Dot(q[t][head], k[s][kvHead]) / Math.Sqrt(D);
                    double max = scores.Max();
                    var weights = scores.Select(z => Math.Exp(z - max)).ToArray();
                    double sum = weights.Sum();
                    for (int s = 0; s <= t; s++)
                        for (int d = 0; d < D; d++) concat[head * D + d] += weights[s] / sum * v[s][kvHead][d];
                }
                attended[t] = Linear(concat, $"{p}.self_attn.o_proj", H);
            }
            for (int t = 0; t < T; t++)
            {
                x[t] = Add(x[t], attended[t]);
                var h = Norm(x[t], _w[$"{p}.post_attention_layernorm.weight"]);
                var gate = Linear(h, $"{p}.mlp.gate_proj", _c.IntermediateSize);
                var up = Linear(h, $"{p}.mlp.up_proj", _c.IntermediateSize);
                var act = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
                x[t] = Add(x[t], Linear(act, $"{p}.mlp.down_proj", H));
            }
        }
        var outputName = _c.TieWordEmbeddings ? "model.embed_tokens" : "lm_head";
        return x.Select(row => Linear(Norm(row, _w["model.norm.weight"]), outputName, _c.VocabSize)).ToArray();
    }

    double[] Head(double[] projected, int index, int D, string normName, int position, double[] inv)
    {
        var h = projected.Skip(index * D).Take(D).ToArray();
        if (_c.QkNorm) h = Norm(h, _w[normName + ".weight"]);
        return Rotate(h, position, inv);
    }

    double[] Norm(double[] x, double[] weight)
    {
        double rms = Math.Sqrt(x.Select(z => z * z).Average() + _c.RmsNormEps);
        return x.Select((z, i) => z / rms * weight[i]).ToArray();
    }

    double[] Linear(double[] x, string name, int outFeatures)
    {
        var w = _w[name + ".weight"];
        _w.TryGetValue(name + ".bias", out var b);
        var y = new double[outFeatures];
        for (int o = 0; o < outFeatures; o++)
        {
            double sum = b?[o] ?? 0;
            for (int i = 0; i < x.Length; i++) sum += w[o * x.Length + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    static double Dot(double[] a, double[] b) => a.Select((z, i) => z * b[i]).Sum();
    static double[] Add(double[] a, double[] b) => a.Select((z, i) => z + b[i]).ToArray();
}
