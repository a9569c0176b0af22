using OpenAI.Chat;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Service.Tests.Images;
using Whetstone.Service.Tests.OpenAi;

namespace Whetstone.Service.Tests.Vision;

/// <summary>/v1/chat/completions with image_url parts: the official OpenAI .NET client sends a
/// PNG as a data: URL and gets an answer; any other URL is a 400 naming the part.</summary>
public class VisionChatTests
{
    [Fact]
    public async Task OpenAiClientSendsAnImageAndGetsAnAnswer()
    {
        await using var server = await VisionServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "alice");
        var chat = client.OpenAi.GetChatClient(VisionServers.ModelName);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0f };

        ChatCompletion withImage = (await chat.CompleteChatAsync([new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("What is in the picture?"),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(TestImages.Png()), "image/png"))], options)).Value;
        ChatCompletion textOnly = (await chat.CompleteChatAsync([new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("What is in the picture?"))], options)).Value;

        Assert.True(withImage.Usage.OutputTokenCount is > 0 and <= 4);
        // The image part renders as <|vision_start|><|image_pad|><|vision_end|> and its pad widens
        // to the image's 8 tokens: 10 more prompt tokens than the text alone.
        Assert.Equal(textOnly.Usage.InputTokenCount + 10, withImage.Usage.InputTokenCount);
        var logged = await client.LoggedAsync(withImage.Id);
        Assert.Equal(withImage.Usage.OutputTokenCount, OpenAiTestClient.Tokens(logged).Length);
    }

    [Fact]
    public async Task NonDataUrlsAndImagesForATextModelAreRefusedNamingThePart()
    {
        await using var server = await VisionServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "bob");
        string png = Convert.ToBase64String(TestImages.Png());
        string Body(string model, string url) =>
            $$$"""{"model": "{{{model}}}", "max_tokens": 2, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "{{{url}}}"}}]}]}""";

        (string Model, string Url, string Field, string Reason)[] cases =
        [
            (VisionServers.ModelName, "https://example.com/cat.png", "messages[0].content[1].image_url.url", "must be a data: URL"),
            (VisionServers.ModelName, "data:image/gif;base64,R0lGODlh", "messages[0].content[1].image_url.url", "is not data:image/png;base64"),
            (VisionServers.ModelName, "data:image/png;base64,@@@", "messages[0].content[1].image_url.url", "not valid base64"),
            (VisionServers.ModelName, "data:image/png;base64," + png[..(png.Length / 2)], "messages[0].content[1].image_url.url", "truncated"),
            (TestServers.ModelName, "data:image/png;base64," + png, "messages[0].content[1].image_url.url", "no vision encoder"),
        ];
        foreach (var (model, url, field, reason) in cases)
        {
            var (status, body) = await client.PostFailingAsync("/v1/chat/completions", Body(model, url));
            string text = body.ToJsonString();
            Assert.True(status == 400 && text.Contains(field) && text.Contains(reason), $"{url[..Math.Min(40, url.Length)]}: {status} {text}");
        }
    }
}
