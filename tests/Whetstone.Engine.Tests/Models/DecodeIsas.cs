using Whetstone.Engine.Models;

namespace Whetstone.Engine.Tests.Models;

/// <summary>The decode kernels' SIMD widths a test runs through, by name ("torch" is the kernels
/// off: the reference path). A width this CPU cannot execute is a real skip.</summary>
internal static class DecodeIsas
{
    public static readonly string[] Kernels = ["avx512", "avx2", "vector128"];

    /// <summary>The kernel widths and the torch path.</summary>
    public static readonly string[] KernelsAndTorch = [.. Kernels, "torch"];

    /// <summary>Each row of <paramref name="rows"/> once per width, the width first.</summary>
    public static IEnumerable<object[]> Cross(IEnumerable<object[]> rows, string[] isas) =>
        isas.SelectMany(isa => rows.Select(row => row.Prepend(isa).ToArray()));

    /// <summary>Runs the kernels at <paramref name="isa"/> on this test's flow until disposed; skips
    /// the test where this CPU cannot run that width.</summary>
    public static IDisposable Use(string isa)
    {
        var parsed = DecodeInstructionSet.Parse(isa);
        Assert.SkipUnless(DecodeInstructionSet.IsSupported(parsed),
            $"this CPU cannot run the {parsed} decode kernels (it runs at most {DecodeInstructionSet.Best})");
        return DecodeInstructionSet.Use(parsed);
    }
}
