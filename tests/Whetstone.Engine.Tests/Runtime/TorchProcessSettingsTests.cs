using System.Runtime.InteropServices;
using Whetstone.Engine.Runtime;

namespace Whetstone.Engine.Tests.Runtime;

/// <summary>The engine's libtorch settings travel through the process environment only while
/// libtorch loads: afterwards the native environment (what a library loaded later, such as
/// llama.cpp's own libgomp, reads) must be as the process started.</summary>
public class TorchProcessSettingsTests
{
    [Theory]
    [InlineData("GOMP_SPINCOUNT")]
    [InlineData("THP_MEM_ALLOC_ENABLE")]
    public void TheNativeEnvironmentIsAsItWasOnceLibtorchHasLoaded(string name)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "reads the native environment through glibc's getenv");
        // Any engine type runs the module initializer; this one also runs torch.
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, ComputeDtype.Parse("fp32"));
        Assert.Equal(Environment.GetEnvironmentVariable(name), Marshal.PtrToStringUTF8(NativeGetEnvironment(name)));
    }

    [DllImport("libc", EntryPoint = "getenv")]
    static extern IntPtr NativeGetEnvironment([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
