using Whetstone.Engine.Models;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>The general.* and {architecture}.* keys of a model, as convert_hf_to_gguf writes them
/// for llama / qwen2 / qwen3, and the inverse: a <see cref="ModelConfig"/> from those keys.</summary>
internal static class GgufModelMetadata
{
    public static GgufMetadata For(ModelConfig config, GgufTensorType matrixType, string name)
    {
        // The tensor names and keys written here are llama.cpp's for the dense families only; an MoE,
        // MLA or vision model written with them would be a file llama.cpp refuses to load, so refuse first.
        if (config.Family is not (ModelFamily.Llama or ModelFamily.Qwen2 or ModelFamily.Qwen3) || config.Vision is not null)
            throw new NotSupportedException($"GGUF export: model_type '{config.ModelTypeName ?? config.Family.ModelType()}'{(config.Vision is null ? "" : " with a vision tower")} is not supported (llama, qwen2, qwen3 text models)");
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

    /// <summary>The config llama.cpp's load_hparams would build: context_length, embedding_length,
    /// block_count, attention.head_count and layer_norm_rms_epsilon are required; every other key
    /// takes llama.cpp's default when absent (rope.freq_base 10000, head_count_kv = head_count,
    /// key/value_length = embedding / heads, rope.dimension_count = key_length, rope scaling linear
    /// with factor from rope.scaling.factor or the older rope.scale_linear, none when 0 or 1).
    /// Per-layer arrays (head_count, head_count_kv, feed_forward_length) are accepted when uniform.</summary>
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
        int? PerLayer(string key) => UniformPerLayer(m, $"{arch}.{key}", file.Path);
        int hidden = Int("embedding_length");
        int heads = PerLayer("attention.head_count") ?? throw new InvalidDataException($"{file.Path}: GGUF metadata has no integer key '{arch}.attention.head_count'");
        int headDim = (int?)m.OptionalInteger($"{arch}.attention.key_length") ?? hidden / heads;
        int valueDim = (int?)m.OptionalInteger($"{arch}.attention.value_length") ?? hidden / heads;
        if (valueDim != headDim)
            throw new NotSupportedException($"{file.Path}: {arch}.attention.value_length = {valueDim} differs from key_length = {headDim}; only equal head sizes are supported");
        int rotary = (int?)m.OptionalInteger($"{arch}.rope.dimension_count") ?? headDim;
        if (rotary != headDim)   // llama.cpp refuses this for llama; partial rotary is not a qwen2/qwen3 layout either
            throw new NotSupportedException($"{file.Path}: {arch}.rope.dimension_count = {rotary}, expected the head size {headDim} (partial rotary embeddings are not supported)");
        var embedding = file.Shape("token_embd.weight");
        return new ModelConfig
        {
            Family = family,
            VocabSize = checked((int)embedding[0]),
            HiddenSize = hidden,
            // llama.cpp reads it as optional but then needs it for the tensor shapes; the gate's rows say the same.
            IntermediateSize = PerLayer("feed_forward_length") ?? checked((int)file.Shape("blk.0.ffn_gate.weight")[0]),
            NumHiddenLayers = Int("block_count"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = PerLayer("attention.head_count_kv") ?? heads,
            HeadDim = headDim,
            MaxPositionEmbeddings = Int("context_length"),
            // Stored as float32: widen through the decimal text so 1e-6 comes back as 1e-6, not 9.99999997e-7.
            RmsNormEps = WidenFloat(m.Number($"{arch}.attention.layer_norm_rms_epsilon")),
            RopeTheta = WidenFloat(m.OptionalNumber($"{arch}.rope.freq_base") ?? DefaultRopeFreqBase),
            RopeScaling = Scaling(m, arch, file.Path),
            TieWordEmbeddings = !file.Contains("output.weight"),
            AttentionBias = family == ModelFamily.Qwen2 || file.Contains("blk.0.attn_q.bias"),
            BosTokenId = GgufTokenizerDefaults.BosTokenId(m),
            EosTokenIds = GgufTokenizerDefaults.EosTokenId(m) is int eos ? [eos] : [],
            TorchDtype = file.Type("token_embd.weight") switch
            {
                GgufTensorType.BF16 => "bfloat16",
                GgufTensorType.F16 => "float16",
                _ => "float32",   // F32, and quantised types, which import dequantises to float32
            },
        };
    }

    /// <summary>llama.cpp's rope_freq_base_train when the key is absent.</summary>
    public const double DefaultRopeFreqBase = 10000.0;

    static double WidenFloat(double value) => double.Parse(((float)value).ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);

    static RopeScaling Scaling(GgufMetadata m, string arch, string path)
    {
        // llama.cpp: type defaults to "linear"; the factor is rope.scaling.factor, else the older
        // rope.scale_linear, and a factor of 0 (absent) means no scaling.
        string type = m.OptionalString($"{arch}.rope.scaling.type") ?? "linear";
        double factor = m.OptionalNumber($"{arch}.rope.scaling.factor") ?? m.OptionalNumber($"{arch}.rope.scale_linear") ?? 0;
        if (type == "none" || factor == 0 || (type == "linear" && factor == 1)) return RopeScaling.None;
        return type == "linear"
            ? new RopeScaling { Type = "linear", Factor = factor }
            : throw new NotSupportedException($"{path}: {arch}.rope.scaling.type = '{type}' is not supported (linear, none)");
    }

    /// <summary>A count llama.cpp reads with get_key_or_arr: one number, or one per layer. Per-layer
    /// values must all be equal here (one network shape for every layer).</summary>
    static int? UniformPerLayer(GgufMetadata m, string key, string path)
    {
        switch (m.Find(key))
        {
            case null: return null;
            case Array array:
                var values = array.Cast<object>().Select(Convert.ToInt64).Distinct().ToArray();
                if (values.Length != 1)
                    throw new NotSupportedException($"{path}: {key} differs across layers ({string.Join(", ", values)}); only uniform layers are supported");
                return checked((int)values[0]);
            default: return checked((int)m.Integer(key));
        }
    }
}
