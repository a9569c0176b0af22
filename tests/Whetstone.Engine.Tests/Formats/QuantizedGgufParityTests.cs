using LLama;
using LLama.Native;
using Whetstone.Engine.Formats.Gguf;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Formats;

/// <summary>A model quantised by llama.cpp's own quantiser (llama_model_quantize through
/// LLamaSharp) imports dequantised, and the engine running the imported weights gives llama.cpp's
/// log-probabilities on the quantised file within the error llama.cpp's quantised matmuls add
/// (it rounds activations to 8 bits before each quantised dot product), which is smaller than
/// llama.cpp's own distance to the unquantised model. Measured (max |Δ logprob|, engine vs
/// llama.cpp / unquantised vs llama.cpp): Q8_0 1.1e-2 / 2.2e-2, Q6_K 1.3e-2 / 5.0e-2; for Q8_0 the
/// two are close because the activations are rounded as finely as the weights. llama.cpp leaves
/// output.weight unquantised here (quantize_output_tensor off).</summary>
public class QuantizedGgufParityTests(ITestOutputHelper output)
{
    static readonly string[] Corpus =
    [
        "Hello world! The quick brown fox jumps over the lazy dog.",
        "Numbers 1234567 and 3.14159, tabs\tand\nnew lines.",
    ];

    [Theory]
    [InlineData(LLamaFtype.MOSTLY_Q8_0, new[] { GgufTensorType.Q8_0 })]
    [InlineData(LLamaFtype.MOSTLY_Q4_0, new[] { GgufTensorType.Q4_0 })]
    [InlineData(LLamaFtype.MOSTLY_Q4_K_M, new[] { GgufTensorType.Q4_K, GgufTensorType.Q6_K })]
    [InlineData(LLamaFtype.MOSTLY_Q6_K, new[] { GgufTensorType.Q6_K })]
    public void QuantisedImportMatchesLlamaCppWithinQuantisationError(LLamaFtype ftype, GgufTensorType[] expectedTypes)
    {
        var style = ByteLevelTokenizerStyle.Llama3;
        var source = Path.Combine(TestModels.TempDirectory(), "base");
        // Rows of 256: the K-quant super-block; smaller rows make llama.cpp fall back to other types.
        RandomModelWriter.Write(source, new RandomModelSpec
        {
            Family = ModelFamily.Llama, HiddenSize = 256, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            IntermediateSize = 512, TieWordEmbeddings = false, Seed = 13,
            TokenizerStyle = style, Merges = ByteLevelBpeTrainer.LearnMerges(Corpus.Concat(Corpus), 60, style),
        });
        var f32 = Path.Combine(TestModels.TempDirectory(), "model-f32.gguf");
        GgufExporter.Export(source, f32, ScalarType.Float32);
        var quantized = Path.Combine(TestModels.TempDirectory(), $"model-{ftype}.gguf");
        NativeApi.llama_empty_call();   // LLamaQuantizer calls into llama.cpp without loading it first
        Assert.True(LLamaQuantizer.Quantize(f32, quantized, ftype, nthread: 2, allowRequantize: false), $"llama_model_quantize failed for {ftype}");

        var file = new GgufFile(quantized);
        var types = file.TensorNames.Select(file.Type).Where(t => t.IsQuantized()).Distinct().Order().ToArray();
        Assert.Equal(expectedTypes.Order().ToArray(), types);

        var imported = Path.Combine(TestModels.TempDirectory(), "imported");
        GgufImporter.Import(quantized, imported);
        using var original = PretrainedModel.Load(source);
        using var dequantized = PretrainedModel.Load(imported);
        var (tokens, llamaCpp) = LlamaCppLogprobs.FromLlamaCpp(quantized, Corpus[0]);
        Assert.Equal(dequantized.Tokenizer.Encode(Corpus[0], addSpecialTokens: true).ToArray(), tokens);

        var ours = LlamaCppLogprobs.FromEngine(dequantized, tokens);
        float parity = LlamaCppLogprobs.MaxDifference(ours, llamaCpp);
        float quantisationError = LlamaCppLogprobs.MaxDifference(LlamaCppLogprobs.FromEngine(original, tokens), llamaCpp);
        output.WriteLine($"{ftype} [{string.Join(",", types)}]: max |Δ logprob| engine(dequantised) vs llama.cpp = {parity:E3}; unquantised vs llama.cpp = {quantisationError:E3}");
        Assert.True(parity < quantisationError, $"{ftype}: |Δ| to llama.cpp {parity:E3} is not inside the quantisation error {quantisationError:E3}");
        Assert.True(parity < 0.03f, $"{ftype}: |Δ| to llama.cpp {parity:E3} exceeds 3e-2");
        // Greedy choices agree at every position where llama.cpp's top two are not a near tie.
        for (int i = 0; i < tokens.Length; i++)
        {
            var sorted = llamaCpp[i].OrderDescending().ToArray();
            if (sorted[0] - sorted[1] > 2 * parity) Assert.Equal(LogitMath.ArgMax(llamaCpp[i]), LogitMath.ArgMax(ours[i]));
        }
    }
}
