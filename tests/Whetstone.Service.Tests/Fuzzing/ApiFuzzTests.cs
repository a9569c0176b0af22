using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Fuzzing;

/// <summary>Every route of the service, from its endpoint data source, called with nearly-right
/// JSON (<see cref="JsonFuzzer"/>), odd path ids and odd query values. Goal: no 5xx; every 4xx a
/// JSON error (a 400 or 422 naming the field); nothing stored changes when a call is refused; a
/// call accepted as a future never ends as an internal error. Bounded here (250 cases, seed 19);
/// the long form: <c>WHET_FUZZ_CASES=20000 WHET_FUZZ_SEED=1</c> on the same test.</summary>
public class ApiFuzzTests
{
    // Not "%00" nor ids of 5000 characters: Kestrel refuses a NUL in the request target (400) and a
    // request line over 8 KiB (414) itself, with an empty body, before the app sees the request.
    static readonly string[] OddIds = ["x", "run_00000000", "-1", "99999999999999999999", new string('a', 2000), "💥", "a%2Fb", "..x", "whet:%2F%2Fx"];
    static readonly string[] OddQueryValues = ["-1", "0", "1e99", "NaN", "abc", "99999999999", "-99999999999", "", "%FF", "1.5"];

    [Fact]
    public async Task NoRouteAnswers5xxAndRefusedCallsLeaveEveryStoredStateUnchanged()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("WHET_FUZZ_CASES"), out var c) ? c : 250;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("WHET_FUZZ_SEED"), out var s) ? s : 19;
        var data = TestServers.NewDataDirectory();
        // No background job that changes stored state by itself (the expiry sweep deletes checkpoints
        // saved with a TTL; loops train): a change seen after a refused call is then that call's.
        await using var server = new TestHost(await Hosting.WhetstoneServer.StartAsync(TestServers.Options(data) with
        {
            ExpirySweepInterval = TimeSpan.FromDays(1), LoopTickInterval = TimeSpan.Zero,
        }), owned: true);
        var key = await TestServers.KeyAsync(server, "fuzz");
        using var client = server.Client(key);

        // Real things for the path ids to name, so calls get past "not found" into validation.
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: 1);
        await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([5, 6, 7, 8])], "cross_entropy")).ResultAsync();
        await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.01 })).ResultAsync();
        var state = (await (await run.SaveStateAsync("s1")).ResultAsync()).Path;
        var sampler = await run.SaveWeightsAndGetSamplingClientAsync("w1");
        var real = new Dictionary<string, string[]>
        {
            ["run"] = [run.RunId], ["session"] = [sampler.SessionId], ["name"] = ["s1", "w1"], ["kind"] = ["weights", "sampler_weights"],
        };
        string[] realStrings = [run.RunId, sampler.SessionId, state, sampler.ModelPath!, TestServers.ModelName, "cross_entropy", "s1", "w1", "hello"];

        var routes = FuzzedRoutes.Of(server.Core);
        Assert.True(routes.Count > 40, $"only {routes.Count} routes found");
        var random = new Random(seed);
        var fuzzer = new JsonFuzzer(random, [5, 6, 7, 8, 9, 10, 11, 12], realStrings);
        using var tenant = TestServers.Raw(server, key);
        using var admin = TestServers.Raw(server, TestServers.AdminKey);
        tenant.Timeout = admin.Timeout = TimeSpan.FromSeconds(120);
        var failures = new List<string>();
        var stored = await SettledAsync(data, StoredState.Read(data));
        var statuses = new Dictionary<int, int>();

        for (int i = 0; i < cases && failures.Count < 20; i++)
        {
            var route = routes[random.Next(routes.Count)];
            var path = Path(route, real, random);
            var request = new HttpRequestMessage(new HttpMethod(route.Method), path);
            byte[]? body = null;
            if (route.Method is "POST" or "PUT" or "PATCH")
            {
                body = fuzzer.Body(route.BodyType);
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            string what = $"#{i} {route.Method} {Shorten(path)} [{string.Join("; ", fuzzer.Applied)}]";
            HttpResponseMessage response;
            try { response = await (random.NextDouble() < 0.15 ? admin : tenant).SendAsync(request, HttpCompletionOption.ResponseHeadersRead); }
            catch (Exception e) { failures.Add($"{what}: no response ({e.GetType().Name}: {e.Message})"); continue; }
            int status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var text = await ReadAsync(response);
            if (status >= 500) { failures.Add($"{what}: {status} {Shorten(text)}"); stored = await SettledAsync(data, stored); continue; }
            if (status >= 400)
            {
                if (ErrorProblem(path, status, text) is { } problem) failures.Add($"{what}: {status} {problem}: {Shorten(text)}");
                var after = StoredState.Read(data);
                var changed = stored.Differences(after);
                if (changed.Count > 0) failures.Add($"{what}: {status} refused but stored state changed: {string.Join(", ", changed)}");
                stored = after;
                continue;
            }
            if (status == 202 && JsonFuture(text) is { } requestId)
            {
                var future = await tenant.GetStringAsync(Routes.Future(requestId) + "?timeout_seconds=60");
                var result = JsonNode.Parse(future)!;
                if ((string?)result["status"] == "failed" && (string?)result["error"]?["code"] == "internal_error")
                    failures.Add($"{what}: accepted, then failed as an internal error: {Shorten(future)}");
            }
            // A read changes nothing by itself; a write's background records settle before the next case.
            stored = route.Method == "GET" ? StoredState.Read(data) : await SettledAsync(data, StoredState.Read(data));
        }
        TestContext.Current.SendDiagnosticMessage($"fuzz: {cases} cases, seed {seed}, statuses {string.Join(", ", statuses.OrderBy(x => x.Key).Select(x => $"{x.Key}×{x.Value}"))}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(statuses.Keys.Any(k => k >= 400), "no call was refused: the fuzzer is not reaching validation");
    }

    static string Path(FuzzedRoute route, Dictionary<string, string[]> real, Random random)
    {
        var path = route.Template;
        foreach (var parameter in route.Parameters)
        {
            var known = real.FirstOrDefault(r => parameter.Contains(r.Key, StringComparison.OrdinalIgnoreCase)).Value;
            var value = known is not null && random.NextDouble() < 0.75 ? known[random.Next(known.Length)] : OddIds[random.Next(OddIds.Length)];
            path = path.Replace("{" + parameter + "}", value.Contains('%') ? value : Uri.EscapeDataString(value))
                .Replace("{*" + parameter + "}", Uri.EscapeDataString(value));
        }
        if (random.NextDouble() < 0.4)
        {
            string[] names = ["limit", "cursor", "timeout_seconds", "after", "offset", "format", "tenant"];
            path += "?" + string.Join("&", Enumerable.Range(0, random.Next(1, 4)).Select(_ => $"{names[random.Next(names.Length)]}={OddQueryValues[random.Next(OddQueryValues.Length)]}"));
        }
        return path;
    }

    /// <summary>Null when the body is the API's error shape for this status.</summary>
    static string? ErrorProblem(string path, int status, string text)
    {
        JsonNode? error;
        try { error = JsonNode.Parse(text)?["error"]; }
        catch (System.Text.Json.JsonException) { return "body is not JSON"; }
        if (error is not JsonObject) return "no error object";
        if (string.IsNullOrEmpty((string?)error["message"])) return "error without a message";
        bool openAi = path.StartsWith(Routes.OpenAiPrefix + "/", StringComparison.Ordinal);
        string? field = openAi ? (string?)error["param"] : (string?)error["field"];
        if (status is 400 or 422 && string.IsNullOrEmpty(field)) return "refusal names no field";
        return null;
    }

    static string? JsonFuture(string text)
    {
        try { return (string?)JsonNode.Parse(text)?["request_id"]; }
        catch (System.Text.Json.JsonException) { return null; }
    }

    static async Task<string> ReadAsync(HttpResponseMessage response)
    {
        // Streams (server-sent events) are read to their end too: a 200 stream must finish.
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>After an accepted call, background writes (request records, usage) land shortly
    /// after the answer: wait until two reads 150 ms apart agree.</summary>
    static async Task<StoredState> SettledAsync(string data, StoredState previous)
    {
        for (int i = 0; i < 40; i++)
        {
            await Task.Delay(150);
            var now = StoredState.Read(data);
            if (previous.Differences(now).Count == 0) return now;
            previous = now;
        }
        return previous;
    }

    static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
