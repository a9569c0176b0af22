using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Protocol;
using static Microsoft.Playwright.Assertions;

namespace Whetstone.Console.Tests;

/// <summary>Promote and rollback clicked in the console change what /v1 answers for the alias:
/// the greedy tokens of name@latest are those of the checkpoint the page made current; a traffic
/// split set on the page sends some users to the other version.</summary>
public class DeploymentConsoleTests
{
    static readonly int[] Prompt = [11, 12, 13, 14, 15, 16];

    /// <summary>A LoRA adapter trained a few steps to continue the prompt with <paramref name="target"/>.</summary>
    static async Task<string> AdapterAsync(ServiceClient sdk, int seed, int[] target, string name)
    {
        var run = await sdk.CreateLoraTrainingClientAsync(ConsoleServer.ModelName, rank: 4, seed: seed);
        for (int i = 0; i < 8; i++)
        {
            await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([.. Prompt, .. target])], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.05 })).ResultAsync();
        }
        return (await (await run.SaveWeightsForSamplerAsync(name)).ResultAsync()).Path;
    }

    static async Task<int[]> GreedyAsync(ServiceClient sdk, string checkpoint)
    {
        var sampler = await sdk.CreateSamplingClientAsync(modelPath: checkpoint);
        var output = await (await sampler.SampleAsync(ModelInput.FromTokens(Prompt), 1, new SamplingParams { MaxTokens = 6, Temperature = 0 })).ResultAsync();
        await sampler.CloseAsync();
        return output.Sequences[0].Tokens.ToArray();
    }

    /// <summary>What /v1/completions answers for the alias, as tokens (read back from the completion log).</summary>
    static async Task<int[]> ServedAsync(HttpClient http, string model)
    {
        var answer = await ConsoleServer.PostJsonAsync(http, Routes.OpenAiCompletions, new { model, prompt = Prompt, max_tokens = 6, temperature = 0 });
        var log = JsonNode.Parse(await http.GetStringAsync(Routes.CompletionLog + "?limit=1000"))!["data"]!.AsArray();
        var entry = log.Single(e => (string)e!["id"]! == (string)answer["id"]!)!;
        return entry["choices"]![0]!["tokens"]!.AsArray().Select(t => (int)t!).ToArray();
    }

    [Fact]
    public async Task PromoteAndRollbackInTheConsoleSwitchTheGreedyAnswerOfTheAlias()
    {
        await using var browser = await ConsoleBrowser.StartAsync();
        await using var server = await ConsoleServer.StartAsync();
        string key = await server.KeyAsync("dana");
        using var sdk = server.Sdk(key);
        using var http = server.Raw(key);
        var a = await AdapterAsync(sdk, 1, [40, 41, 42, 43, 44, 45], "a");
        var b = await AdapterAsync(sdk, 2, [90, 91, 92, 93, 94, 95], "b");
        int[] greedyA = await GreedyAsync(sdk, a), greedyB = await GreedyAsync(sdk, b);
        Assert.NotEqual(greedyA, greedyB);   // otherwise the test could not tell the versions apart

        var page = browser.Page;
        await browser.SignInAsync(server.BaseAddress, key);
        await page.ClickAsync("#nav a:text('Deployments')");
        await page.FillAsync("#new-deployment", "helper");
        await page.ClickAsync("button:text('Create deployment')");
        var helper = page.Locator("section.deployment[data-name='helper']");
        await Expect(helper.Locator(".current-version")).ToHaveTextAsync("no version yet");

        await helper.Locator("select.promote-choice").SelectOptionAsync(a);
        await helper.Locator("button.promote").ClickAsync();
        await Expect(helper.Locator(".current-version")).ToHaveTextAsync("v1");
        Assert.Equal(greedyA, await ServedAsync(http, "helper@latest"));

        await helper.Locator("select.promote-choice").SelectOptionAsync(b);
        await helper.Locator("button.promote").ClickAsync();
        await Expect(helper.Locator(".current-version")).ToHaveTextAsync("v2");
        Assert.Equal(greedyB, await ServedAsync(http, "helper@latest"));

        await helper.Locator("button.rollback").ClickAsync();
        await Expect(helper.Locator(".current-version")).ToHaveTextAsync("v1");
        Assert.Equal(greedyA, await ServedAsync(http, "helper@latest"));

        await helper.Locator("button:text('Make v2 current')").ClickAsync();
        await Expect(helper.Locator(".current-version")).ToHaveTextAsync("v2");
        Assert.Equal(greedyB, await ServedAsync(http, "helper@latest"));

        // The four answers are in the completion log page; feedback given there is stored on the completion.
        await page.ClickAsync("#nav a:text('Completions')");
        await Expect(page.Locator("#completions tbody tr")).ToHaveCountAsync(4);
        await page.Locator("#completions tbody tr").First.Locator("button.thumbs_up").ClickAsync();
        await Expect(page.Locator("#completions tbody tr").First.Locator(".feedback")).ToHaveTextAsync("thumbs up");
        var feedback = JsonNode.Parse(await http.GetStringAsync(Routes.Feedback))!["data"]!.AsArray();
        var newest = JsonNode.Parse(await http.GetStringAsync(Routes.CompletionLog + "?limit=1000"))!["data"]!.AsArray()[^1]!;
        Assert.Equal("thumbs_up", (string)feedback.Single()!["type"]!);
        Assert.Equal((string)newest["id"]!, (string)feedback.Single()!["completion_id"]!);
        await browser.ScreenshotAsync("completions");

        // A traffic split set on the page: half of helper@latest's users (by a hash of `user`) are answered by v1, the rest by v2.
        await page.ClickAsync("#nav a:text('Deployments')");
        await Expect(helper.Locator(".traffic-split")).ToHaveTextAsync("v2 100%");
        await helper.Locator("input.split-percent").FillAsync("50");
        await helper.Locator("select.split-version").SelectOptionAsync("1");
        await helper.Locator("button.set-split").ClickAsync();
        await Expect(helper.Locator(".traffic-split")).ToHaveTextAsync("v2 50% · v1 50%");
        var info = JsonNode.Parse(await http.GetStringAsync(Routes.Deployment("helper")))!;
        Assert.Equal((1, 50.0), ((int)info["candidate_version"]!, (double)info["candidate_percent"]!));
        var ids = new List<string>();
        for (int u = 0; u < 16; u++)
            ids.Add((string)(await ConsoleServer.PostJsonAsync(http, Routes.OpenAiCompletions,
                new { model = "helper@latest", prompt = Prompt, max_tokens = 2, temperature = 0, user = $"user{u}" }))["id"]!);
        var log = JsonNode.Parse(await http.GetStringAsync(Routes.CompletionLog + "?limit=1000"))!["data"]!.AsArray();
        var versions = ids.Select(id => (string)log.Single(e => (string)e!["id"]! == id)!["deployment"]!).Distinct().Order().ToArray();
        Assert.Equal(["helper@v1", "helper@v2"], versions);
        await browser.ScreenshotAsync("deployments");
        await helper.Locator("button.clear-split").ClickAsync();
        await Expect(helper.Locator(".traffic-split")).ToHaveTextAsync("v2 100%");
        Assert.Null(JsonNode.Parse(await http.GetStringAsync(Routes.Deployment("helper")))!["candidate_version"]);
        browser.AssertNoPageErrors();
    }
}
