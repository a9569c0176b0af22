using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Serving;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>Under a loop whose canary splits by request, one user's requests reach both arms, about
/// the asked share go to the candidate, and the same request (user, seed, prompt) always gets the
/// same arm, also after a restart; canary.split "user" keeps every request of a user on one arm;
/// the settings are checked by field and survive a restart.</summary>
public class CanaryRequestSplitTests
{
    [Fact]
    public void RequestKeysAreDeterministicAndSpreadOneUsersRequestsAtTheAskedShare()
    {
        const string prompt = "[11,12,13]";
        Assert.Equal(CanaryRouting.KeysOf("ann", 7, prompt), CanaryRouting.KeysOf("ann", 7, prompt));
        Assert.Equal("user:ann", CanaryRouting.KeysOf("ann", 7, prompt).PerUser);
        // 4,000 requests of one user, seeds 0…3999 at 30%: Binomial sd 0.0072, so ±0.03 is four of them.
        var keys = Enumerable.Range(0, 4000).Select(seed => CanaryRouting.KeysOf("ann", seed, prompt)).ToArray();
        Assert.InRange(keys.Count(k => CanaryRouting.ToCandidate("helper", k.PerRequest, 30)) / 4000.0, 0.27, 0.33);
        Assert.All(keys, k => Assert.Equal(CanaryRouting.ToCandidate("helper", "user:ann", 30), CanaryRouting.ToCandidate("helper", k.PerUser, 30)));
        // One fixed seed (a client that always sends seed 0) still spreads different prompts.
        var prompts = Enumerable.Range(0, 4000).Select(i => CanaryRouting.KeysOf("ann", 0, $"[{i}]")).ToArray();
        Assert.InRange(prompts.Count(k => CanaryRouting.ToCandidate("helper", k.PerRequest, 30)) / 4000.0, 0.27, 0.33);
    }

    static async Task<string> ArmAsync(OpenAiTestClient client, string user, int? seed, int[]? prompt = null)
    {
        var response = await client.PostAsync(Routes.OpenAiCompletions,
            new { model = "helper@latest", prompt = prompt ?? [11, 12, 13, 14], max_tokens = 2, temperature = 0.0, seed, user });
        var logged = await client.LoggedAsync((string)response["id"]!);
        Assert.Equal(user, (string?)logged["user"]);
        string arm = (string)logged["arm"]!;
        Assert.Equal(arm == "candidate" ? "helper@v2" : "helper@v1", (string?)logged["deployment"]);
        return arm;
    }

    static async Task<string[]> ArmsAsync(OpenAiTestClient client, string user, IEnumerable<int> seeds)
    {
        var arms = new List<string>();
        foreach (var chunk in seeds.Chunk(10)) arms.AddRange(await Task.WhenAll(chunk.Select(s => ArmAsync(client, user, s))));
        return [.. arms];
    }

    [Fact]
    public async Task ALoopsRequestSplitSendsEachUsersRequestsToBothArmsAndItsSettingsSurviveARestart()
    {
        string data = TestServers.NewDataDirectory();
        string key, id;
        string[] perRequest, perUser;
        await using (var server = await StartAsync(data))
        {
            using var client = await OpenAiTestClient.CreateAsync(server, "sara");
            key = client.Key;
            string adapter = await DeployAsync(client, "helper", seed: 1);
            await client.PostAsync(Routes.DeploymentPromote("helper"), new { checkpoint = adapter });
            await client.PostAsync(Routes.DeploymentRollback("helper"), new { });
            // A loop that never triggers (no feedback): only its canary settings matter here.
            var loop = await client.PostAsync(Routes.Loops, new { deployment = "helper", trigger = new { every_feedback = 1_000_000 }, canary = new { percent = 30.0 } });
            id = (string)loop["id"]!;
            Assert.Equal(("request", "within_user", 5), ((string?)loop["canary"]!["split"], (string?)loop["canary"]!["compare"], (int)loop["canary"]!["min_users"]!));
            Assert.Equal("sequential", (string?)loop["canary"]!["design"]);

            foreach (var (json, field) in new[]
            {
                ("""{"split": "session"}""", "canary.split"), ("""{"compare": "median"}""", "canary.compare"),
                ("""{"split": "user"}""", "canary.compare"), ("""{"min_users": 3}""", "canary.min_users"),
                ("""{"design": "peek"}""", "canary.design"),
            })
            {
                var response = await client.Http.PatchAsync(Routes.Loop(id), new StringContent($$"""{"canary": {{json}}}""", Encoding.UTF8, "application/json"));
                var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                Assert.Equal((400, field), ((int)response.StatusCode, (string?)body["error"]!["field"]));
            }
            Assert.Equal("request", (string?)(await GetAsync(client, Routes.Loop(id)))["canary"]!["split"]);   // refused changes left it as it was

            await client.PostAsync(Routes.DeploymentTraffic("helper"), new { candidate_version = 2, percent = 30.0 });
            perRequest = await ArmsAsync(client, "ann", Enumerable.Range(0, 60));
            // Binomial(60, 0.3): sd 0.059, so 0.12–0.48 is three of them; and ann reached both arms.
            Assert.InRange(perRequest.Count(a => a == "candidate") / 60.0, 0.12, 0.48);
            Assert.Equal(perRequest[..10], await ArmsAsync(client, "ann", Enumerable.Range(0, 10)));   // the same request, the same arm
            // No seed: the prompt decides, the same prompt always alike.
            var noSeed = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ArmAsync(client, "ann", null, [21, 22, 23])));
            Assert.Single(noSeed.Distinct());

            var patch = await client.Http.PatchAsync(Routes.Loop(id), new StringContent(
                """{"canary": {"percent": 30, "split": "user", "compare": "events", "min_users": 7}}""", Encoding.UTF8, "application/json"));
            Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());
            perUser = await ArmsAsync(client, "ann", Enumerable.Range(0, 20));
            string annsArm = CanaryRouting.ToCandidate("helper", "user:ann", 30) ? "candidate" : "stable";
            Assert.All(perUser, a => Assert.Equal(annsArm, a));
        }

        await using (var server = await StartAsync(data))
        {
            using var client = new OpenAiTestClient(server, key);
            var canary = (await GetAsync(client, Routes.Loop(id)))["canary"]!;
            Assert.Equal(("user", "events", 7, 30.0), ((string?)canary["split"], (string?)canary["compare"], (int)canary["min_users"]!, (double)canary["percent"]!));
            Assert.All(await ArmsAsync(client, "ann", Enumerable.Range(0, 5)), a => Assert.Equal(perUser[0], a));
            var patch = await client.Http.PatchAsync(Routes.Loop(id), new StringContent(
                """{"canary": {"percent": 30, "split": "request"}}""", Encoding.UTF8, "application/json"));
            Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());
            Assert.Equal(perRequest[..10], await ArmsAsync(client, "ann", Enumerable.Range(0, 10)));   // deterministic across processes
        }
    }
}
