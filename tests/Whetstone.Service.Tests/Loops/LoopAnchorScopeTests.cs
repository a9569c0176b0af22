using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Loops;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>rl.anchor_scope "steps": the anchor weights a deployed answer's tokens up to and including
/// the number of its first "Answer: N" and nothing after it (the end of turn, a closing line), so it
/// holds the digits without pulling against corrections that add a line after the answer; "answer"
/// (the default) weights every token as before; anything else is refused by field.</summary>
public class LoopAnchorScopeTests
{
    /// <summary>A vocabulary of whole pieces: token i decodes to Pieces[i].</summary>
    static readonly string[] Pieces = ["Write", " 8", ".\n", "Answer:", " ", "6", "8", "\n", "So this is right.", "<|im_end|>", "1", "2", " 3"];

    static string Decode(IReadOnlyList<int> tokens) => string.Concat(tokens.Select(t => Pieces[t]));

    [Fact]
    public void TheStepsScopeEndsAtTheAnswersNumberAndTheDatumWeightsExactlyThoseTokens()
    {
        // "Write 8.\nAnswer: 68\nSo this is right.<|im_end|>": the number ends with token 6 ("8"), the 7th.
        int[] answer = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        Assert.Equal(7, LoopAnchor.WeightedTokens(answer, LoopRlSettings.AnchorScopeSteps, Decode));
        Assert.Equal(10, LoopAnchor.WeightedTokens(answer, LoopRlSettings.AnchorScopeAnswer, Decode));
        // The deployed answer's own end of turn right after the number: weight 0 on it.
        Assert.Equal(7, LoopAnchor.WeightedTokens([0, 1, 2, 3, 4, 5, 6, 9], LoopRlSettings.AnchorScopeSteps, Decode));
        // No "Answer: N" (cut off in its steps, or the number never written): nothing to anchor.
        Assert.Equal(0, LoopAnchor.WeightedTokens([0, 1, 2, 3, 4], LoopRlSettings.AnchorScopeSteps, Decode));

        // Prompt of 3 tokens + the 10-token answer, 7 weighted at 0.5. Targets are tokens 1…12, so target j is token j+1:
        // tokens 3…9 (the answer's first 7) are targets 2…8.
        var datum = LoopAnchor.Datum([10, 11, 12], answer, 0.5, weighted: 7);
        Assert.Equal([10.0, 11, 12, 0, 1, 2, 3, 4, 5, 6, 7, 8], datum.ModelInput.TextTokens().Select(t => (double)t));
        Assert.Equal([11.0, 12, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], datum.LossFnInputs["target_tokens"].Data);
        Assert.Equal([0.0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0, 0], datum.LossFnInputs["weights"].Data);
        // Without a count every answer token is weighted, as the "answer" scope always did.
        Assert.Equal([0.0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], LoopAnchor.Datum([10, 11, 12], answer, 0.5).LossFnInputs["weights"].Data);
    }

    [Fact]
    public async Task TheScopeIsStoredAndAnUnknownOneIsRefusedByField()
    {
        await using var server = await StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "scop");
        await DeployAsync(client, "helper", seed: 1);
        var response = await client.Http.PostAsync(Routes.Loops, new StringContent(
            """{"deployment": "helper", "rl": {"anchor_scope": "tokens"}}""", Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal((400, "rl.anchor_scope"), ((int)response.StatusCode, (string?)body["error"]!["field"]));
        Assert.Contains("tokens", (string?)body["error"]!["message"]);

        var loop = await client.PostAsync(Routes.Loops, new { deployment = "helper", trigger = new { every_feedback = 1_000_000 } });
        Assert.Equal("answer", (string?)loop["rl"]!["anchor_scope"]);
        var patch = await client.Http.PatchAsync(Routes.Loop((string)loop["id"]!), new StringContent(
            """{"rl": {"anchor_scope": "steps", "anchor_weight": 1.0}}""", Encoding.UTF8, "application/json"));
        Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());
        Assert.Equal("steps", (string?)(await GetAsync(client, Routes.Loop((string)loop["id"]!)))["rl"]!["anchor_scope"]);
    }
}
