using System.ClientModel;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using OpenAiChatMessage = OpenAI.Chat.ChatMessage;

#pragma warning disable OPENAI001 // Seed is marked experimental in the OpenAI package

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>The /v1 chat API driven by the official OpenAI .NET client and by
/// Microsoft.Extensions.AI's IChatClient over it, against a real server on a tiny model.</summary>
public class OpenAiChatTests
{
    static readonly OpenAiChatMessage[] Conversation = [new SystemChatMessage("You add numbers."), new UserChatMessage("What is 2 + 3? Héllo ✓")];

    static ChatCompletionOptions Options(long seed, int maxTokens = 24) => new()
    {
        Seed = seed, Temperature = 1f, MaxOutputTokenCount = maxTokens, IncludeLogProbabilities = true, TopLogProbabilityCount = 3,
    };

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task StreamingAndNonStreamingGiveTheSameTokensForTheSameSeed(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await OpenAiTestClient.CreateAsync(server, "alice");
        var chat = client.OpenAi.GetChatClient(TestServers.ModelName);

        ChatCompletion whole = (await chat.CompleteChatAsync(Conversation, Options(seed: 42))).Value;
        var streamedText = new StringBuilder();
        var streamedLogprobs = new List<ChatTokenLogProbabilityDetails>();
        string? streamId = null;
        OpenAI.Chat.ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(Conversation, Options(seed: 42)))
        {
            streamId ??= update.CompletionId;
            foreach (var part in update.ContentUpdate) streamedText.Append(part.Text);
            streamedLogprobs.AddRange(update.ContentTokenLogProbabilities);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        var wholeLog = await client.LoggedAsync(whole.Id);
        var streamLog = await client.LoggedAsync(streamId!);
        var tokens = OpenAiTestClient.Tokens(wholeLog);
        Assert.NotEmpty(tokens);
        Assert.Equal(tokens, OpenAiTestClient.Tokens(streamLog));
        Assert.Equal(whole.Content.Count == 0 ? "" : whole.Content[0].Text, streamedText.ToString());
        Assert.Equal(whole.FinishReason, finish);
        // The usage chunk closes the stream (the OpenAI client asks for it) and counts every sampled token.
        Assert.NotNull(usage);
        Assert.Equal(tokens.Length, usage!.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.ContentTokenLogProbabilities.Select(l => l.LogProbability), streamedLogprobs.Select(l => l.LogProbability));

        // Logprobs are the log table's, token by token, and the alternatives are sorted and bounded by 3.
        var logged = wholeLog["choices"]![0]!["logprobs"]!.AsArray().Select(l => (float)l!).ToArray();
        Assert.Equal(logged.Take(whole.ContentTokenLogProbabilities.Count), whole.ContentTokenLogProbabilities.Select(l => l.LogProbability));
        foreach (var l in whole.ContentTokenLogProbabilities)
        {
            Assert.Equal(3, l.TopLogProbabilities.Count);
            Assert.True(l.TopLogProbabilities[0].LogProbability >= l.LogProbability - 1e-6);
        }
        // The prompt the log recorded is the renderer's generation prompt (ChatML, as the HF template writes it).
        var tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);
        var prompt = wholeLog["prompt_tokens"]!.AsArray().Select(t => (int)t!).ToArray();
        Assert.Equal("<|im_start|>system\nYou add numbers.<|im_end|>\n<|im_start|>user\nWhat is 2 + 3? Héllo ✓<|im_end|>\n<|im_start|>assistant\n",
            tokenizer.Decode(prompt));
    }

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task StreamOfMultiByteCharactersSplitAcrossTokensIsWellFormedForTheOpenAiClient(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await OpenAiTestClient.CreateAsync(server, "bob");
        var chat = client.OpenAi.GetChatClient(TestServers.ModelName);
        var tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);

        // The random tiny model draws byte tokens freely: find a seed whose answer holds a
        // non-ASCII character made of the bytes of two or more tokens.
        for (long seed = 1; seed <= 40; seed++)
        {
            var streamed = new StringBuilder();
            string? id = null;
            await foreach (var update in chat.CompleteChatStreamingAsync(Conversation, Options(seed, maxTokens: 48)))
            {
                id ??= update.CompletionId;
                foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            }
            var tokens = OpenAiTestClient.Tokens(await client.LoggedAsync(id!));
            if (!HasCharacterSplitAcrossTokens(tokenizer, tokens)) continue;

            ChatCompletion whole = (await chat.CompleteChatAsync(Conversation, Options(seed, maxTokens: 48))).Value;
            string text = whole.Content.Count == 0 ? "" : whole.Content[0].Text;
            Assert.Equal(text, streamed.ToString());
            Assert.Contains(text, c => c > 0x7F && c != '\uFFFD');
            return;
        }
        Assert.Fail("no seed in 1..40 produced a character split across tokens");
    }

    // A token whose bytes end inside a UTF-8 character that the next token completes.
    static bool HasCharacterSplitAcrossTokens(HuggingFaceTokenizer tokenizer, int[] tokens)
    {
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        for (int i = 0; i + 1 < tokens.Length; i++)
        {
            var first = tokenizer.TokenBytes(tokens[i], false) ?? [];
            var second = tokenizer.TokenBytes(tokens[i + 1], false) ?? [];
            if (first.Length == 0 || second.Length == 0) continue;
            int lead = Array.FindLastIndex(first, b => (b & 0xC0) != 0x80);
            if (lead < 0 || first[lead] < 0xC2) continue;
            int need = first[lead] >= 0xF0 ? 4 : first[lead] >= 0xE0 ? 3 : 2;
            int have = first.Length - lead;
            if (have >= need || second.Length < need - have) continue;
            try { strict.GetString([.. first[lead..], .. second[..(need - have)]]); return true; }
            catch (DecoderFallbackException) { }
        }
        return false;
    }

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task ErrorsComeInOpenAisShapeAndTheClientSurfacesThem(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await OpenAiTestClient.CreateAsync(server, "carol");

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => client.OpenAi.GetChatClient("no-such-model").CompleteChatAsync(Conversation));
        Assert.Equal(404, missing.Status);
        Assert.Contains("no-such-model", missing.Message);

        var hot = await Assert.ThrowsAsync<ClientResultException>(() =>
            client.OpenAi.GetChatClient(TestServers.ModelName).CompleteChatAsync(Conversation, new ChatCompletionOptions { Temperature = 3f }));
        Assert.Equal(400, hot.Status);
        Assert.Contains("temperature", hot.Message);

        var (status, body) = await client.PostFailingAsync(Routes.OpenAiChatCompletions,
            $$"""{"model": "{{TestServers.ModelName}}", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}""");
        Assert.Equal(400, status);
        Assert.Equal("max_tokens", (string?)body["error"]!["param"]);
        Assert.Equal("invalid_request_error", (string?)body["error"]!["type"]);
        (status, body) = await client.PostFailingAsync(Routes.OpenAiChatCompletions, """{"model": "x", "messages": [""");
        Assert.Equal(400, status);
        Assert.Equal("body", (string?)body["error"]!["param"]);
        (status, body) = await client.PostFailingAsync(Routes.OpenAiChatCompletions,
            $$$"""{"model": "{{{TestServers.ModelName}}}", "response_format": {"type": "json_schema"}, "messages": [{"role": "user", "content": "hi"}]}""");
        Assert.Equal(400, status);
        Assert.Equal("response_format.json_schema", (string?)body["error"]!["param"]);
        // Nothing was served, so nothing was logged.
        Assert.Empty(JsonNode.Parse(await client.Http.GetStringAsync(Routes.CompletionLog))!["data"]!.AsArray());

        using var anonymous = server.Raw(null);
        var unauthorised = await anonymous.GetAsync(Routes.OpenAiModels);
        Assert.Equal(401, (int)unauthorised.StatusCode);
        Assert.Equal("authentication_error", (string?)JsonNode.Parse(await unauthorised.Content.ReadAsStringAsync())!["error"]!["type"]);
    }

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task MicrosoftExtensionsAiChatClientGetsTheSameAnswerStreamedOrNot(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await OpenAiTestClient.CreateAsync(server, "dave");
        IChatClient chat = client.OpenAi.GetChatClient(TestServers.ModelName).AsIChatClient();
        var options = new ChatOptions { Temperature = 0f, MaxOutputTokens = 16 };
        AiChatMessage[] messages = [new(ChatRole.User, "Say something.")];

        var response = await chat.GetResponseAsync(messages, options);
        var streamed = new StringBuilder();
        await foreach (var update in chat.GetStreamingResponseAsync(messages, options)) streamed.Append(update.Text);

        Assert.Equal(response.Text, streamed.ToString());
        var logged = await client.LoggedAsync(response.ResponseId!);
        Assert.Equal(response.Text, (string?)logged["choices"]![0]!["message"]!["content"]);
        Assert.Equal("chat.completions", (string?)logged["endpoint"]);
        Assert.True(OpenAiTestClient.Tokens(logged).Length is > 0 and <= 16);
    }
}
