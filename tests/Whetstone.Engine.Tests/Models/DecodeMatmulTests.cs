using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models;

/// <summary>The decode-time matrix kernel against torch's matmul in double precision, for fp32 and
/// bf16: row counts on and off its 4-row blocks, both the streaming path (≤ 4 rows, or widths off
/// its vectors) and the 4×4 tiles (more rows; output counts off the tile repeat a weight row), at
/// every SIMD width (AVX-512, AVX2, portable 128-bit) this CPU runs.</summary>
public class DecodeMatmulTests
{
    static readonly object[][] Shapes =
    [
        [ScalarType.Float32, 1, 768, 2304, false],
        [ScalarType.Float32, 1, 37, 53, true],
        [ScalarType.Float32, 3, 100, 129, true],
        [ScalarType.Float32, 16, 161, 70, false],
        [ScalarType.Float32, 16, 512, 70, true],
        [ScalarType.Float32, 13, 96, 9, false],
        [ScalarType.Float32, 4, 64, 33, true],
        [ScalarType.Float32, 5, 1536, 64, true],
        [ScalarType.Float32, 150, 256, 70, true],
        [ScalarType.BFloat16, 1, 768, 2304, false],
        [ScalarType.BFloat16, 1, 47, 65, true],
        [ScalarType.BFloat16, 2, 200, 31, true],
        [ScalarType.BFloat16, 7, 1, 3, false],
        [ScalarType.BFloat16, 16, 161, 70, false],
        [ScalarType.BFloat16, 16, 512, 70, true],
        [ScalarType.BFloat16, 13, 1536, 36, false],
        [ScalarType.BFloat16, 5, 64, 3, true],
        [ScalarType.BFloat16, 4, 96, 40, true],
        [ScalarType.BFloat16, 150, 128, 70, true],
    ];

    public static IEnumerable<object[]> IsasAndShapes() => DecodeIsas.Cross(Shapes, DecodeIsas.Kernels);

    [Theory]
    [MemberData(nameof(IsasAndShapes))]
    public void KernelEqualsTorchMatmul(string isa, ScalarType dtype, int rows, int inFeatures, int outFeatures, bool bias)
    {
        using var width = DecodeIsas.Use(isa);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator(17);
        var x = randn([rows, 1, inFeatures], generator: generator).to(dtype);
        var w = randn([outFeatures, inFeatures], generator: generator).to(dtype);
        var b = bias ? randn([outFeatures], generator: generator).to(dtype) : null;
        // Past 4 rows only rows of whole vectors (fp32) or vector pairs (bf16) take the kernel's tiles;
        // other widths are torch's, but a decode layer may still hand them to the kernel, which must
        // then be right too.
        int limit = DecodeMatmul.MaxRowsAt(DecodeInstructionSet.Current, dtype == ScalarType.BFloat16);
        int tileWidth = DecodeMatmul.TileWidth(DecodeInstructionSet.Current, dtype == ScalarType.BFloat16);
        bool takes = rows <= 4 || (rows <= limit && inFeatures % tileWidth == 0);
        Assert.Equal(takes, DecodeMatmul.Applies(x, w));

        var actual = DecodeMatmul.Linear(x, w, b);
        Assert.Equal(dtype, actual.dtype);
        Assert.Equal(new long[] { rows, 1, outFeatures }, actual.shape);
        // The exact product of the (already rounded) inputs.
        var exact = nn.functional.linear(x.to(ScalarType.Float64), w.to(ScalarType.Float64), b?.to(ScalarType.Float64));
        var torchResult = nn.functional.linear(x, w, b).to(ScalarType.Float64);
        double scale = exact.abs().max().item<double>();
        double ours = (actual.to(ScalarType.Float64) - exact).abs().max().item<double>();
        double theirs = (torchResult - exact).abs().max().item<double>();
        // fp32: summation order only; bf16: one rounding of the result (2^-8 relative) like torch's.
        double tolerance = dtype == ScalarType.Float32 ? 1e-5 * scale : Math.Max(theirs, 4e-3 * scale);
        Assert.True(ours <= tolerance, $"|kernel − exact| = {ours:E3}, torch's = {theirs:E3}, tolerance {tolerance:E3}");
    }

    public static IEnumerable<object[]> Isas() => DecodeIsas.Kernels.Select(isa => new object[] { isa });

    [Theory]
    [MemberData(nameof(Isas))]
    public void TorchTakesOverWithGradientsOrMoreRows(string isa)
    {
        using var width = DecodeIsas.Use(isa);
        using var scope = NewDisposeScope();
        var w = randn(8, 8);
        using (no_grad()) Assert.False(DecodeMatmul.Applies(randn(DecodeMatmul.MaxFp32Rows + 1, 16), randn(8, 16)));
        int bf16Limit = DecodeMatmul.MaxRowsAt(DecodeInstructionSet.Current, bf16: true);
        using (no_grad()) Assert.False(DecodeMatmul.Applies(randn(bf16Limit + 1, 32).to(ScalarType.BFloat16), randn(8, 32).to(ScalarType.BFloat16)));
        Assert.False(DecodeMatmul.Applies(randn(1, 8), w));   // autograd on: the learner's path
        using (no_grad()) Assert.False(DecodeMatmul.Applies(randn(1, 8).to(ScalarType.Float64), w.to(ScalarType.Float64)));
    }
}
