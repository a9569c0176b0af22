using System.IO.Compression;
using Whetstone.Client;

namespace Whetstone.Cli.Commands;

/// <summary>A full training run's sampler checkpoint as a plain Hugging Face directory: the
/// pretraining commands end with the model they made, ready for <c>whet serve</c> or models/.</summary>
internal static class WholeModelDownload
{
    /// <summary>Downloads <paramref name="samplerPath"/> merged and unpacks it into
    /// <c>outputDirectory/model</c> (replacing an older one); returns that directory.</summary>
    public static async Task<string> ToDirectoryAsync(ServiceClient client, string samplerPath, string outputDirectory, CancellationToken cancellationToken)
    {
        var zip = Path.Combine(outputDirectory, "model.zip");
        await client.CreateRestClient().DownloadCheckpointToFileAsync(samplerPath, CheckpointDownloadFormat.Merged, zip, cancellationToken);
        var model = Path.Combine(outputDirectory, "model");
        if (Directory.Exists(model)) Directory.Delete(model, recursive: true);
        ZipFile.ExtractToDirectory(zip, model);
        File.Delete(zip);
        // The download's checksum manifest belongs to the archive, not to a model directory.
        File.Delete(Path.Combine(model, "manifest.json"));
        return model;
    }
}
