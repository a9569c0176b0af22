using Whetstone.Engine.Models;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>The general.* and {architecture}.* keys of a model, as convert_hf_to_gguf writes them
/// for llama / qwen2 / qwen3, and the inverse: a <see cref="ModelConfig"/> from those keys.</summary>
internal static class GgufModelMetadata
{
    public static GgufMetadata For(ModelConfig config, GgufTensorType matrixType, string name)
    {
        string arch = config.Family.ModelType();   // llama, qwen2, qwen3: the same names llama.cpp uses
        var m = new GgufMetadata();
        m.Set("general.architecture", arch);
        m.Set("general.type", "model");
        m.Set("general.name", name);
        m.Set(GgufWriter.AlignmentKey, (uint)GgufWriter.DefaultAlignment);
        // llama_ftype: ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_BF16 = 32.
        m.Set("general.file_type", matrixType switch { GgufTensorType.F16 => 1u, GgufTensorType.BF16 => 32u, _ => 0u });
        m.Set($"{arch}.vocab_size", (uint)config.VocabSize);
        m.Set($"{arch}.context_length", (uint)config.MaxPositionEmbeddings);
        m.Set($"{arch}.embedding_length", (uint)config.HiddenSize);
        m.Set($"{arch}.block_count", (uint)config.NumHiddenLayers);
        m.Set($"{arch}.feed_forward_length", (uint)config.IntermediateSize);
        m.Set($"{arch}.attention.head_count", (uint)config.NumAttentionHeads);
        m.Set($"{arch}.attention.head_count_kv", (uint)config.NumKeyValueHeads);
        // head_dim is explicit: Qwen3 (and some Llamas) set it independently of hidden / heads.
        m.Set($"{arch}.attention.key_length", (uint)config.HeadDim);
        m.Set($"{arch}.attention.value_length", (uint)config.HeadDim);
        m.Set($"{arch}.rope.dimension_count", (uint)config.HeadDim);
        m.Set($"{arch}.rope.freq_base", (float)config.RopeTheta);
        m.Set($"{arch}.attention.layer_norm_rms_epsilon", (float)config.RmsNormEps);
        if (config.RopeScaling.Type == "linear")
        {
            m.Set($"{arch}.rope.scaling.type", "linear");
            m.Set($"{arch}.rope.scaling.factor", (float)config.RopeScaling.Factor);
        }
        return m;
    }

    public static ModelConfig ToConfig(GgufMetadata m, GgufFile file)
    {
        string arch = m.String("general.architecture");
        var family = arch switch
        {
            "llama" => ModelFamily.Llama,
            "qwen2" => ModelFamily.Qwen2,
            "qwen3" => ModelFamily.Qwen3,
            _ => throw new NotSupportedException($"{file.Path}: general.architecture = '{arch}' is not supported (llama, qwen2, qwen3)"),
        };
        int Int(string key) => checked((int)m.Integer($"{arch}.{key}"));
        int hidden = Int("embedding_length");
        int heads = Int("attention.head_count");
        var embedding = file.Shape("token_embd.weight");
        var scaling = RopeScaling.None;
        if (m.OptionalString($"{arch}.rope.scaling.type") is { } type && type != "none")
            scaling = type == "linear"
                ? new RopeScaling { Type = "linear", Factor = m.Number($"{arch}.rope.scaling.factor") }
                : throw new NotSupportedException($"{file.Path}: {arch}.rope.scaling.type = '{type}' is not supported (linear)");
        return new ModelConfig
        {
            Family = family,
            VocabSize = checked((int)embedding[0]),
            HiddenSize = hidden,
            IntermediateSize = Int("feed_forward_length"),
            NumHiddenLayers = Int("block_count"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = (int?)m.OptionalInteger($"{arch}.attention.head_count_kv") ?? heads,
            HeadDim = (int?)m.OptionalInteger($"{arch}.attention.key_length") ?? hidden / heads,
            MaxPositionEmbeddings = Int("context_length"),
            // Stored as float32: widen through the decimal text so 1e-6 comes back as 1e-6, not 9.99999997e-7.
            RmsNormEps = double.Parse(((float)m.Number($"{arch}.attention.layer_norm_rms_epsilon")).ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture),
            RopeTheta = double.Parse(((float)m.Number($"{arch}.rope.freq_base")).ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture),
            RopeScaling = scaling,
            TieWordEmbeddings = !file.Contains("output.weight"),
            AttentionBias = family == ModelFamily.Qwen2 || file.Contains("blk.0.attn_q.bias"),
            BosTokenId = (int?)m.OptionalInteger("tokenizer.ggml.bos_token_id"),
            EosTokenIds = m.OptionalInteger("tokenizer.ggml.eos_token_id") is long eos ? [(int)eos] : [],
            TorchDtype = file.Type("token_embd.weight") switch
            {
                GgufTensorType.BF16 => "bfloat16",
                GgufTensorType.F16 => "float16",
                _ => "float32",
            },
        };
    }
}
