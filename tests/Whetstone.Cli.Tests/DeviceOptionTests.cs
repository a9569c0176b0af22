using System.Diagnostics;

namespace Whetstone.Cli.Tests;

/// <summary>--device on the commands that compute (issue #21): CUDA on a machine without it is
/// refused before anything is loaded, read or started, with exit code 2 and a message naming the
/// flag; cpu and auto run.</summary>
public class DeviceOptionTests
{
    static string Missing(string name) => Path.Combine(Path.GetTempPath(), "whetstone-cli-tests", $"{name}-{Guid.NewGuid():N}");

    public static TheoryData<string[]> CommandsAskingForCuda()
    {
        // Paths that do not exist: the refusal must come first, before any of them is read.
        string model = Missing("model"), output = Missing("out");
        return new()
        {
            new[] { "sample", "-m", model, "-p", "hi", "--device", "cuda" },
            new[] { "logprobs", "-m", model, "--tokens", "1,2", "--device", "cuda:0" },
            new[] { "serve", "--models", model, "--data", output, "--urls", "http://127.0.0.1:0", "--device", "cuda" },
            new[] { "train", "sft", "-m", model, "--data", Missing("data.jsonl"), "--out", output, "--device", "cuda" },
            new[] { "train", "rl", "-m", model, "--out", output, "--device", "cuda" },
            new[] { "train", "dpo", "-m", model, "--out", output, "--device", "cuda" },
            new[] { "train", "rlhf", "-m", model, "--out", output, "--device", "cuda" },
            new[] { "train", "reward-model", "-m", model, "--out", output, "--device", "cuda" },
            new[] { "train", "distill", "--student", model, "--teacher", Missing("teacher"), "--out", output, "--device", "cuda" },
            new[] { "pretrain", "--out", output, "--device", "cuda" },
            new[] { "pretrain-vlm", "--out", output, "--device", "cuda" },
            new[] { "few-shot-vision", "-m", model, "--out", output, "--device", "cuda" },
            new[] { "eval", "-m", model, "--device", "cuda" },
        };
    }

    [Theory]
    [MemberData(nameof(CommandsAskingForCuda))]
    public void CudaWithoutAGpuFailsFastNamingTheFlag(string[] arguments)
    {
        Assert.SkipWhen(TorchSharp.torch.cuda.is_available(), "this machine has CUDA: --device cuda is accepted here");
        var clock = Stopwatch.StartNew();
        var outcome = Whet.Run(arguments);
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith($"error: --device '{arguments[^1]}': CUDA is not available", outcome.Stderr);
        Assert.Contains("-p:TorchBackend=cuda", outcome.Stderr);
        Assert.Equal("", outcome.Stdout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        // Nothing was created: no data or output directory.
        var written = arguments.Zip(arguments.Skip(1)).Where(p => p.First is "--data" or "--out").Select(p => p.Second);
        Assert.All(written, path => Assert.False(Path.Exists(path), $"{path} was created"));
    }

    [Fact]
    public void AnUnknownDeviceIsRefusedNamingTheChoices()
    {
        var outcome = Whet.Run("sample", "-m", TinyModel.ModelDirectory, "-p", "hi", "--device", "gpu");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("error: --device 'gpu' is not one of auto, cpu, cuda or cuda:N", outcome.Stderr.Trim());
    }

    [Fact]
    public void CpuAndAutoSampleTheSameTokensAsTheDefault()
    {
        Assert.SkipWhen(TorchSharp.torch.cuda.is_available(), "auto picks the GPU here, whose tokens may differ in the last bits");
        string[] common = ["sample", "-m", TinyModel.ModelDirectory, "-p", "hello", "--max-tokens", "8", "-t", "0", "--dtype", "fp32", "--json"];
        var byDefault = Whet.Succeed(common);
        Assert.Contains("\"tokens\"", byDefault);
        Assert.Equal(byDefault, Whet.Succeed([.. common, "--device", "cpu"]));
        Assert.Equal(byDefault, Whet.Succeed([.. common, "--device", "auto"]));
    }
}
