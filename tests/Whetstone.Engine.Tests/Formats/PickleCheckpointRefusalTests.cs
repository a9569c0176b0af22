using Whetstone.Engine.Formats;
using Whetstone.Engine.Models;

namespace Whetstone.Engine.Tests.Formats;

/// <summary>Directories holding torch.save weights (single or sharded .bin) are refused with an
/// error that names the file found and the conversion to safetensors.</summary>
public class PickleCheckpointRefusalTests
{
    [Theory]
    [InlineData("pytorch_model.bin")]
    [InlineData("pytorch_model.bin.index.json")]
    [InlineData("pytorch_model-00001-of-00002.bin")]
    public void BinCheckpointsAreRefusedNamingTheFix(string fileName)
    {
        var source = TestModels.WriteCheckpoint(TestModels.Config(ModelFamily.Qwen3));
        var directory = TestModels.TempDirectory();
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(directory, "config.json"));
        File.WriteAllBytes(Path.Combine(directory, fileName), [0x80, 0x02]);   // a pickle's first bytes
        var error = Assert.Throws<NotSupportedException>(() => new CheckpointTensors(directory));
        Assert.Contains(fileName, error.Message);
        Assert.Contains("safe_serialization=True", error.Message);
        Assert.Contains("model.safetensors", error.Message);
    }

    [Fact]
    public void DirectoryWithNeitherFormatStillSaysWhatIsMissing()
    {
        var error = Assert.Throws<FileNotFoundException>(() => new CheckpointTensors(TestModels.TempDirectory()));
        Assert.Contains("model.safetensors.index.json", error.Message);
    }
}
