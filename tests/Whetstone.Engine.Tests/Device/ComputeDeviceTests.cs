using Whetstone.Engine.Runtime;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Device;

/// <summary>--device: the choices, "auto", and the refusals that name the flag. CUDA's presence is
/// given to the parser, so every branch runs here whether or not a GPU is present.</summary>
public class ComputeDeviceTests
{
    static TorchSharp.torch.Device Parse(string name, bool cuda, int devices = 1) => ComputeDevice.Parse(name, "--device", () => cuda, () => devices);

    [Fact]
    public void CpuIsTheCpuAndAutoFollowsCuda()
    {
        Assert.Equal(TorchSharp.DeviceType.CPU, Parse("cpu", cuda: true).type);
        Assert.Equal(TorchSharp.DeviceType.CPU, Parse("auto", cuda: false).type);
        var auto = Parse("AUTO", cuda: true);
        Assert.Equal(TorchSharp.DeviceType.CUDA, auto.type);
        Assert.Equal(0, auto.index);
        Assert.Equal("cuda:0", ComputeDevice.Name(auto));
    }

    [Fact]
    public void CudaWithAnIndexPicksThatDevice()
    {
        var second = Parse("cuda:1", cuda: true, devices: 2);
        Assert.Equal(TorchSharp.DeviceType.CUDA, second.type);
        Assert.Equal(1, second.index);
        Assert.Equal(0, Parse("cuda", cuda: true).index);
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    public void CudaWhereThereIsNoneIsRefusedNamingTheFlag(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => Parse(name, cuda: false));
        Assert.StartsWith($"--device '{name}': CUDA is not available", e.Message);
        Assert.Contains("-p:TorchBackend=cuda", e.Message);
    }

    [Fact]
    public void AnIndexPastTheLastDeviceIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Parse("cuda:2", cuda: true, devices: 2));
        Assert.Equal("--device 'cuda:2': device index 2 is past the last of the 2 CUDA device(s) (cuda:0 to cuda:1)", e.Message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("")]
    public void OtherNamesAreRefused(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => Parse(name, cuda: true));
        Assert.StartsWith($"--device '{name}'", e.Message);
    }

    [Fact]
    public void TheRealParserAgreesWithLibtorch()
    {
        // On this machine's build: auto is whatever libtorch reports, and cuda is refused exactly when it reports none.
        bool available = cuda.is_available();
        Assert.Equal(available ? TorchSharp.DeviceType.CUDA : TorchSharp.DeviceType.CPU, ComputeDevice.Parse("auto").type);
        if (!available) Assert.Throws<ArgumentException>(() => ComputeDevice.Parse("cuda"));
        else Assert.Equal(TorchSharp.DeviceType.CUDA, ComputeDevice.Parse("cuda").type);
    }

    [Fact]
    public void AutoDtypeIsBf16OnAGpuAndAnExplicitDtypeStays()
    {
        var gpu = new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA, 0);   // a description only: nothing is allocated
        Assert.Equal(ScalarType.BFloat16, ComputeDtype.Parse("auto", gpu));
        Assert.Equal(ScalarType.Float32, ComputeDtype.Parse("fp32", gpu));
        Assert.Equal(ComputeDtype.Parse("auto"), ComputeDtype.Parse("auto", CPU));
    }
}
