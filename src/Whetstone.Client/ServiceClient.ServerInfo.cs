using Whetstone.Protocol;

namespace Whetstone.Client;

public sealed partial class ServiceClient
{
    /// <summary>Tinker's get_server_capabilities: the base models, their families, context
    /// lengths and what each supports.</summary>
    public Task<ServerCapabilities> GetServerCapabilitiesAsync(CancellationToken cancellationToken = default) =>
        _transport.GetAsync<ServerCapabilities>(ServerInfoRoutes.Capabilities, cancellationToken);

    /// <summary>The half of Tinker's get_tokenizer the SDK can do without a tokenizer library:
    /// writes the model's tokenizer.json, tokenizer_config.json and (when it has one)
    /// generation_config.json into <paramref name="directory"/>
    /// (created if missing), from which HuggingFaceTokenizer.Load builds the tokenizer.</summary>
    public async Task<string> DownloadTokenizerAsync(string baseModel, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        foreach (var file in ServerInfoRoutes.TokenizerFiles)
        {
            Stream source;
            try { source = await _transport.DownloadAsync(ServerInfoRoutes.TokenizerFile(baseModel, file), cancellationToken).ConfigureAwait(false); }
            catch (WhetstoneApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound && file == ServerInfoRoutes.OptionalTokenizerFile) { continue; }
            await using var _ = source;
            await using var target = File.Create(Path.Combine(directory, file));
            await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
        }
        return directory;
    }
}
