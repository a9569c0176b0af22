using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>Random-weight MoE checkpoints written by init-model's own writer (presets kimi-tiny,
/// deepseek-tiny-qproj, qwen3moe-tiny), cached per preset for the test run.</summary>
internal static class MoeTestModels
{
    static readonly Dictionary<string, string> Directories = new();
    static readonly Lock Gate = new();

    public static IEnumerable<object[]> Presets() => [["kimi-tiny"], ["deepseek-tiny-qproj"], ["qwen3moe-tiny"]];

    public static string Write(string preset, bool fp8 = false)
    {
        lock (Gate)
        {
            string key = preset + (fp8 ? "+fp8" : "");
            if (Directories.TryGetValue(key, out var existing)) return existing;
            var directory = TestModels.TempDirectory();
            RandomModelWriter.Write(directory, RandomModelSpec.Preset(preset) with { Seed = 5, Fp8Weights = fp8, MaxPositionEmbeddings = 2048 });
            return Directories[key] = directory;
        }
    }

    public static CausalLanguageModel Load(string preset, ScalarType dtype = ScalarType.Float32) => TestModels.LoadNetwork(Write(preset), dtype);
}
