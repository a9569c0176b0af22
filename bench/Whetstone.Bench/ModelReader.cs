using System.Net.Http.Json;
using System.Text.Json;
using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Bench;

/// <summary>The model reader of --memory-reader: a served model (models/whet-reader-nano, SFT on
/// <see cref="ReaderTrainingData"/>) asked <see cref="ReaderPrompt"/> through /v1/chat/completions,
/// greedy, at most <see cref="AnswerTokens"/> tokens. The context is cut to its last tokens so that
/// prompt and answer fit the model's positions (<see cref="ContextTokens"/>).</summary>
internal sealed class ModelReader(HttpClient http, string model, Func<string, int, string> lastTokens)
{
    public const int AnswerTokens = 12;
    /// <summary>4,096 positions less the chat template, the question and the answer.</summary>
    public const int ContextTokens = 4096 - 80;

    public string Model => model;

    public async Task<string> AnswerAsync(string question, string context)
    {
        string prompt = ReaderPrompt.First(lastTokens(context, ContextTokens), question);
        using var response = await http.PostAsJsonAsync("/v1/chat/completions", new
        {
            model, max_tokens = AnswerTokens, temperature = 0, seed = 1,
            messages = new[] { new { role = "user", content = prompt } },
        });
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"reader {model}: HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return ReaderPrompt.Clean(body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "");
    }
}
