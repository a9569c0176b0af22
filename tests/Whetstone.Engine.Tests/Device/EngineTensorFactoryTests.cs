namespace Whetstone.Engine.Tests.Device;

/// <summary>The static guard of issue #21: every tensor the engine makes from nothing names its
/// device, so nothing lands on the CPU by default when the model lives on a GPU. A new call site
/// without a device fails here with its file and line. Naming the CPU outright is allowed only in
/// the files listed below, each for a reason (checkpoint IO, host-side arithmetic, the CPU
/// kernels); a file that needs it adds one line here, with its reason.</summary>
public class EngineTensorFactoryTests
{
    /// <summary>Engine files (relative to src/Whetstone.Engine) where a factory may name the CPU.</summary>
    public static readonly IReadOnlyDictionary<string, string> CpuByDesign = new Dictionary<string, string>
    {
        ["Formats/SafetensorsFile.cs"] = "checkpoints are read into host memory, then placed on the model's device",
        ["Formats/Gguf/GgufFile.cs"] = "GGUF files are read into host memory",
        ["Formats/Gguf/Llama3RopeFactors.cs"] = "a tensor written into a GGUF file",
        ["ModelMaker/RandomWeights.cs"] = "random weights written to a new checkpoint",
        ["ModelMaker/RandomQwen3VisionWeights.cs"] = "random Qwen3-VL tower weights written to a new checkpoint",
        ["Runtime/ComputeDtype.cs"] = "the dtype probe times the CPU's matmuls",
        ["Runtime/TorchProcessSettings.cs"] = "the first host allocation that makes c10 read its settings",
        ["Lora/LoraAdapter.cs"] = "fresh factors drawn on the CPU (one seed, one adapter on every device), then placed",
        ["Lora/ValueHead.cs"] = "a fresh head drawn on the CPU, then placed",
        ["Training/ValuePass.cs"] = "the value loss over a handful of values is computed on the host",
        ["Formats/Fp8BlockDequantizer.cs"] = "fp8 blocks quantized for a checkpoint being written (the dequantizer itself follows its input's device)",
    };

    [Fact]
    public void EveryTensorFactoryCallInTheEngineNamesADevice()
    {
        var calls = EngineTensorFactoryScan.Calls(EngineTensorFactoryScan.EngineSourceDirectory());
        Assert.True(calls.Count >= 40, $"the scan found only {calls.Count} factory calls: is it reading the engine?");
        var deviceLess = calls.Where(c => !c.NamesADevice).Select(c => c.ToString()).ToList();
        Assert.True(deviceLess.Count == 0, "tensor factories without a device: argument (pass the model's, e.g. network.Device or x.device):\n" + string.Join("\n", deviceLess));
    }

    [Fact]
    public void OnlyListedFilesPutNewTensorsOnTheCpu()
    {
        var calls = EngineTensorFactoryScan.Calls(EngineTensorFactoryScan.EngineSourceDirectory());
        var unlisted = calls.Where(c => c.NamesTheCpu && !CpuByDesign.ContainsKey(c.File)).Select(c => c.ToString()).ToList();
        Assert.True(unlisted.Count == 0, "tensors made on the CPU outside the CPU-by-design files (use the model's device, or add the file to CpuByDesign with its reason):\n" + string.Join("\n", unlisted));
        // The list stays true: every file on it exists and still makes a CPU tensor.
        var stale = CpuByDesign.Keys.Where(f => !calls.Any(c => c.File == f && c.NamesTheCpu)).ToList();
        Assert.True(stale.Count == 0, "CpuByDesign lists files that no longer make CPU tensors: " + string.Join(", ", stale));
    }

    [Fact]
    public void TheScanFindsDeviceLessCallsAcrossLinesAndIgnoresCommentsAndOtherNames()
    {
        const string source = """
            var a = zeros([2, 3], dtype);                 // found: no device
            var b = TorchSharp.torch.arange(5,
                dtype: ScalarType.Int64, device: d);      // found, names a device (second line)
            var c = zeros_like(a) + x.full(3) + Ones(4);  // not factories of nothing
            // var d = ones(3);   a comment
            var e = "tensor(1)";                          // a string
            var f = tensor(rows, device: CPU);            // names the CPU
            """;
        var calls = EngineTensorFactoryScan.CallsIn("X.cs", source).ToList();
        Assert.Equal(["zeros", "arange", "tensor"], calls.Select(c => c.Factory));
        Assert.Equal([1, 2, 7], calls.Select(c => c.Line));
        Assert.Equal([false, true, true], calls.Select(c => c.NamesADevice));
        Assert.Equal([false, false, true], calls.Select(c => c.NamesTheCpu));
    }
}
