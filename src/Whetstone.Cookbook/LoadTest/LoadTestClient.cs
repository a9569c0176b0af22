#pragma warning disable OPENAI001 // Seed is marked experimental in the OpenAI package
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Net;
using OpenAI;
using OpenAI.Chat;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.LoadTest;

/// <summary>One simulated user of the load test, with its own connections: it trains its own LoRA
/// run (forward_backward and optim_step submitted back to back, as a pipelining trainer does),
/// samples the base model through the training API, asks /v1 chat completions through the official
/// OpenAI client (streamed every other time), and now and then saves its adapter for sampling and
/// samples it through both APIs. It starts no new iteration once <c>stopStarting</c> fires.</summary>
public sealed class LoadTestClient : IDisposable
{
    static readonly string[] Questions = ["What is 2 + 3?", "Name a colour.", "Say hello.", "Count to four.", "What is 7 times 6?", "Spell cat."];

    readonly int _index;
    readonly LoadTestSettings _settings;
    readonly OperationStats _stats;
    readonly HttpClient _http;
    readonly ServiceClient _sdk;
    readonly OpenAIClient _openAi;
    readonly CancellationToken _hardStop;
    long _sampledTokens, _trainedTokens;

    public LoadTestClient(int index, LoadTestSettings settings, HttpStatusTally tally, OperationStats stats, CancellationToken hardStop)
    {
        (_index, _settings, _stats, _hardStop) = (index, settings, stats, hardStop);
        _http = new HttpClient(tally.CreateHandler(hardStop)) { Timeout = Timeout.InfiniteTimeSpan };
        _sdk = new ServiceClient(new HttpTransport(_http, settings.Server, settings.ApiKey));
        _openAi = new OpenAIClient(new ApiKeyCredential(settings.ApiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(settings.Server, "v1"),
            Transport = new HttpClientPipelineTransport(_http),
            NetworkTimeout = TimeSpan.FromMinutes(2),
        });
        Log = new ClientLog(settings.LogDirectory, index);
    }

    public ClientLog Log { get; }
    public TrainingClient? Run { get; private set; }
    public int Iterations { get; private set; }
    /// <summary>Optimizer steps the server accepted whose outcome never arrived: applied or not, no one can say.</summary>
    public int StepsInDoubt { get; private set; }
    /// <summary>Acknowledged steps whose number was not the previous one plus one.</summary>
    public int StepsOutOfSequence { get; private set; }
    /// <summary>Tokens returned by training-API samples and unstreamed /v1 answers (their usage).</summary>
    public long SampledTokens => Interlocked.Read(ref _sampledTokens);
    public long TrainedTokens => Interlocked.Read(ref _trainedTokens);

    /// <summary>Creates the client's run (before the clock starts: the first call may load the model).</summary>
    public async Task<bool> CreateRunAsync() => await OperationAsync("create_run", async ct =>
    {
        Run = await _sdk.CreateLoraTrainingClientAsync(_settings.BaseModel, rank: _settings.LoraRank, seed: _settings.Seed * 1000 + _index, cancellationToken: ct);
        Log.Run(Run.RunId);
    });

    public async Task RunAsync(CancellationToken stopStarting)
    {
        if (Run is null) return;
        var sampler = await CreateBaseSamplerAsync();
        var random = new Random(_settings.Seed * 1000 + _index);
        for (int i = 0; !stopStarting.IsCancellationRequested && !_hardStop.IsCancellationRequested; i++)
        {
            await TrainStepAsync(i);
            if (sampler is not null) await SampleAsync("sample", sampler, random.Next());
            await ChatAsync(i % 2 == 0 ? "v1_chat" : "v1_chat_stream", _settings.BaseModel, random);
            if (i % _settings.AdapterEvery == _settings.AdapterEvery - 1) await AdapterAsync(random);
            Iterations = i + 1;
        }
        if (sampler is not null) await OperationAsync("close_session", ct => sampler.CloseAsync(ct));
    }

    async Task<SamplingClient?> CreateBaseSamplerAsync()
    {
        SamplingClient? sampler = null;
        await OperationAsync("create_session", async ct => sampler = await _sdk.CreateSamplingClientAsync(_settings.BaseModel, cancellationToken: ct));
        return sampler;
    }

    async Task TrainStepAsync(int i)
    {
        var run = Run!;
        var tokens = Enumerable.Range(0, 16).Select(t => (t * 7 + i * 3 + _index) % 700 + 5).ToArray();
        ApiFuture<OptimStepOutput>? optim = null;
        await OperationAsync("forward_backward", async ct =>
        {
            var forwardBackward = await run.ForwardBackwardAsync([Datums.ForCrossEntropy(tokens)], "cross_entropy", cancellationToken: ct);
            // Submitted right behind it, as a pipelining trainer does. Accepted once the server
            // answers with a future; a submission refused (429 to the last retry) was never queued,
            // and one whose answer was lost is an HTTP error of its own.
            optim = await run.OptimStepAsync(new AdamParams { LearningRate = 1e-3 }, ct);
            await forwardBackward.ResultAsync(ct);
            Interlocked.Add(ref _trainedTokens, tokens.Length - 1);   // the positions predicted: the model's input
        });
        if (optim is null) return;
        // Awaited even when the forward_backward failed: the step runs all the same, and an
        // acknowledged step must be in the log whatever happened before it.
        bool acknowledged = await OperationAsync("optim_step", async ct =>
        {
            var output = await optim.ResultAsync(ct);
            long previous = Log.AcknowledgedSteps.Count > 0 ? Log.AcknowledgedSteps[^1] : 0;
            if (output.Step != previous + 1) StepsOutOfSequence++;
            Log.OptimStepAcknowledged(run.RunId, output.Step);
        });
        if (!acknowledged) StepsInDoubt++;
    }

    async Task SampleAsync(string operation, SamplingClient sampler, int seed) => await OperationAsync(operation, async ct =>
    {
        var prompt = ModelInput.FromTokens(Enumerable.Range(0, 6).Select(t => (seed + t * 11) % 700 + 5).ToArray());
        var output = await (await sampler.SampleAsync(prompt, 1, new SamplingParams { MaxTokens = _settings.MaxTokens, Seed = seed }, cancellationToken: ct)).ResultAsync(ct);
        Interlocked.Add(ref _sampledTokens, output.Sequences.Sum(s => s.Tokens.Count));
    });

    async Task ChatAsync(string operation, string model, Random random)
    {
        var messages = new List<ChatMessage> { new UserChatMessage(Questions[random.Next(Questions.Length)]) };
        var options = new ChatCompletionOptions { MaxOutputTokenCount = _settings.MaxTokens, Temperature = 0.8f, Seed = random.Next() };
        var chat = _openAi.GetChatClient(model);
        await OperationAsync(operation, async ct =>
        {
            if (operation.EndsWith("_stream", StringComparison.Ordinal))
            {
                // Read to the end; not counted in SampledTokens: a chunk is a piece of text, not a token.
                await foreach (var update in chat.CompleteChatStreamingAsync(messages, options, ct)) { }
            }
            else
            {
                ChatCompletion completion = (await chat.CompleteChatAsync(messages, options, ct)).Value;
                Interlocked.Add(ref _sampledTokens, completion.Usage?.OutputTokenCount ?? 0);
            }
        });
    }

    /// <summary>Saves the adapter for sampling (ephemeral, as an RL loop does), samples it through
    /// the training API and asks /v1 with the checkpoint as the model: the adapter cache's path.</summary>
    async Task AdapterAsync(Random random)
    {
        SamplingClient? adapter = null;
        await OperationAsync("adapter_save", async ct => adapter = await Run!.SaveWeightsAndGetSamplingClientAsync(cancellationToken: ct));
        if (adapter is null) return;
        await SampleAsync("adapter_sample", adapter, random.Next());
        await ChatAsync("v1_chat_adapter", adapter.ModelPath!, random);
        await OperationAsync("close_session", ct => adapter.CloseAsync(ct));
    }

    /// <summary>Runs one operation, timing it; a failure is counted and logged, never thrown: a 429
    /// that the retries could not get past apart from other failures, and the load test's own
    /// cut-off at the hard deadline apart from both.</summary>
    async Task<bool> OperationAsync(string name, Func<CancellationToken, Task> work)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await work(_hardStop);
            _stats.Done(name, clock.Elapsed);
            return true;
        }
        catch (OperationCanceledException) when (_hardStop.IsCancellationRequested)
        {
            _stats.CutOff(name);
            Log.Failed(name, null, "cut off at the hard deadline");
        }
        catch (Exception e) when (StatusOf(e) == 429)
        {
            _stats.RefusedAs429(name);
            Log.Failed(name, 429, e.Message);
        }
        catch (Exception e)
        {
            _stats.Failed(name);
            Log.Failed(name, StatusOf(e), $"{e.GetType().Name}: {e.Message}");
        }
        return false;
    }

    static int? StatusOf(Exception e) => e switch
    {
        WhetstoneApiException { StatusCode: { } status } => (int)status,
        ClientResultException { Status: > 0 } client => client.Status,
        _ => null,
    };

    public void Dispose()
    {
        Log.Dispose();
        _sdk.Dispose();
        _http.Dispose();
    }
}
