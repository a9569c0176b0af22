// Trains a LoRA adapter for forty supervised steps on one sentence through the Whetstone SDK,
// saves it as sampler weights, and samples from it — against any running `whet serve`.
//   dotnet run --project examples/QuickStart -- http://127.0.0.1:8000 <api-key> <base-model> [<model-dir for its tokenizer>]
using System.Text;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Tokenization;

var url = args.Length > 0 ? args[0] : "http://127.0.0.1:8000";
var key = args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("WHET_API_KEY") ?? "";
var model = args.Length > 2 ? args[2] : "tiny";
// With the model's directory, text is encoded with its own tokenizer.json (the canonical ids the
// model was trained on); without it, each byte is its own token, which byte-level BPE vocabularies
// always contain.
var tokenizer = args.Length > 3 ? HuggingFaceTokenizer.Load(args[3]) : null;

using var service = ServiceClient.Connect(new Uri(url), key);
var health = await service.GetHealthAsync();
Console.WriteLine($"server: {health.Status}, models: {string.Join(", ", health.BaseModels)}");

var training = await service.CreateLoraTrainingClientAsync(model, rank: 16, seed: 1);
// The shipped byte-level tokenizers map each byte to a token id of its own; with a trained
// tokenizer, encode with the model's tokenizer instead.
const string sentence = "Whetstone sharpens models.";
int[] tokens = tokenizer?.Encode(sentence).ToArray() ?? Encoding.UTF8.GetBytes(sentence).Select(ByteToken).ToArray();
var batch = new[] { Datums.ForCrossEntropy(tokens) };

for (int step = 1; step <= 40; step++)
{
    // Both calls are submitted before either result is awaited: one scheduler cycle each step.
    var forwardBackward = await training.ForwardBackwardAsync(batch, "cross_entropy");
    var optim = await training.OptimStepAsync(new AdamParams { LearningRate = 1e-2 });
    var loss = (await forwardBackward.ResultAsync()).Metrics["loss:sum"];
    await optim.ResultAsync();
    if (step % 5 == 0) Console.WriteLine($"step {step,2}: loss {loss / (tokens.Length - 1):F3} per token");
}

var sampler = await training.SaveWeightsAndGetSamplingClientAsync("quickstart");
var prompt = tokens.Take(3).ToArray();
var sample = await (await sampler.SampleAsync(ModelInput.FromTokens(prompt), 1,
    new SamplingParams { MaxTokens = tokens.Length - 3, Temperature = 0 })).ResultAsync();
var generated = prompt.Concat(sample.Sequences[0].Tokens).ToArray();
var text = tokenizer?.Decode(generated) ?? Encoding.UTF8.GetString(generated.Select(TokenByte).ToArray());
Console.WriteLine($"greedy sample from the trained adapter: \"{text}\"");
return 0;

// GPT-2 byte-level vocabularies put the 188 printable bytes first (ids 0..187, in byte order),
// then the other 68 bytes.
static int ByteToken(byte b) => Printable(b) ? Enumerable.Range(0, 256).Count(x => x < b && Printable((byte)x)) : 188 + Enumerable.Range(0, 256).Count(x => x < b && !Printable((byte)x));
static byte TokenByte(int id) => (byte)Enumerable.Range(0, 256).First(b => ByteToken((byte)b) == id);
static bool Printable(byte b) => b is >= (byte)'!' and <= (byte)'~' or >= 0xA1 and <= 0xAC or >= 0xAE;
