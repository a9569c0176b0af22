using TorchSharp;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void TorchLoadsAndDifferentiatesAMatmul()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 }, requires_grad: true);
        var b = tensor(new float[] { 5, 6, 7, 8 }, new long[] { 2, 2 });
        var product = matmul(a, b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, product.data<float>().ToArray());
        product.sum().backward();
        // d(sum(A·B))/dA[i,k] = sum_j B[k,j]
        Assert.Equal(new float[] { 11, 15, 11, 15 }, a.grad!.data<float>().ToArray());
    }
}
