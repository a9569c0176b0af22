using System.Diagnostics;
using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Runtime;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>`--device-check --device=cuda [preset]` (scripts/gpu-check.sh): the engine on a device
/// against itself on the CPU and against the device's own peaks, in one run —
/// (1) logprobs of one sequence, fp32 on the CPU vs fp32 and bf16 on the device, and greedy tokens;
/// (2) prefill tokens/s in bf16 against the device's measured bf16 matmul peak;
/// (3) decode tokens/s (1 and 16 streams) against the bound its measured read bandwidth sets;
/// (4) one LoRA training step (forward_backward + AdamW) in fp32 on both, loss and gradient norm
/// compared, then its speed in bf16 on the device.
/// Exit code 1 when a parity check fails. With --device=cpu it checks the CPU against itself (a smoke run).</summary>
internal static class DeviceCheck
{
    // fp32 on two devices differs by summation order only; bf16 by its 8-bit mantissa.
    const double Fp32LogprobTolerance = 2e-3, Bf16LogprobTolerance = 0.25, Fp32StepTolerance = 1e-3;

    public static int Run(string preset, TorchSharp.torch.Device device, bool quick)
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-bench", preset);
        if (!File.Exists(Path.Combine(directory, "config.json"))) RandomModelWriter.Write(directory, RandomModelSpec.Preset(preset));
        Console.WriteLine($"# Whetstone device check — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, model {preset}, device {ComputeDevice.Name(device)}" +
            (device.type == TorchSharp.DeviceType.CUDA ? $" ({cuda.device_count()} CUDA device(s))" : "") + $", load {Load()}");
        int failures = 0;
        void Check(string what, bool ok, string detail)
        {
            Console.WriteLine($"- {(ok ? "ok  " : "FAIL")} {what}: {detail}");
            if (!ok) failures++;
        }

        // (1) Logprob and token parity.
        var random = new Random(7);
        var tokens = Enumerable.Range(0, 256).Select(_ => 300 + random.Next(4000)).ToArray();
        var prompt = tokens[..16];
        float?[] reference;
        IReadOnlyList<int> referenceTokens;
        using (var cpu = PretrainedModel.Load(directory, ScalarType.Float32, CPU))
        {
            var sampler = new Sampler(cpu.Network, cpu.Tokenizer);
            reference = sampler.ComputeLogprobs(tokens).ToArray();
            referenceTokens = Greedy(sampler, prompt);
        }
        foreach (var (dtype, tolerance) in new[] { (ScalarType.Float32, Fp32LogprobTolerance), (ScalarType.BFloat16, Bf16LogprobTolerance) })
        {
            using var model = PretrainedModel.Load(directory, dtype, device);
            var sampler = new Sampler(model.Network, model.Tokenizer);
            var logprobs = sampler.ComputeLogprobs(tokens);
            double worst = reference.Zip(logprobs).Skip(1).Max(p => Math.Abs(p.First!.Value - p.Second!.Value));
            Check($"logprobs {Name(dtype)} on {ComputeDevice.Name(device)} vs fp32 on cpu", worst <= tolerance, $"max |Δ| {worst:G3} over {tokens.Length - 1} tokens (tolerance {tolerance})");
            var greedy = Greedy(sampler, prompt);
            int same = referenceTokens.Zip(greedy).TakeWhile(p => p.First == p.Second).Count();
            Console.WriteLine($"- info greedy tokens {Name(dtype)}: first {same} of {referenceTokens.Count} equal to the CPU's");
        }

        // (2) and (3): speed in bf16 against the device's own peaks.
        double peak = HardwarePeak.MatmulFlops(ScalarType.BFloat16, device);
        double bandwidth = HardwarePeak.ReadBandwidth(device.type == TorchSharp.DeviceType.CPU ? 1L << 30 : 4L << 30, device);
        Console.WriteLine($"- info measured peaks on {ComputeDevice.Name(device)}: bf16 matmul {peak / 1e12:F2} TFLOP/s, read bandwidth {bandwidth / 1e9:F0} GB/s");
        using (var model = PretrainedModel.Load(directory, ScalarType.BFloat16, device))
        {
            var bench = new InferenceBenchmark(model);
            int batch = device.type == TorchSharp.DeviceType.CPU ? 4 : 16, length = quick ? 256 : 512;
            double prefill = bench.PrefillTokensPerSecond(batch, length);
            double prefillShare = prefill * bench.PrefillFlops(batch, length) / (batch * (double)length) / peak;
            Console.WriteLine($"- info prefill bf16 {batch}×{length}: {prefill:F0} tok/s, {100 * prefillShare:F1}% of the bf16 matmul peak");
            double bound = bandwidth / bench.WeightBytesPerToken(ScalarType.BFloat16);
            int decodeTokens = quick ? 32 : 128;
            double decode1 = bench.DecodeTokensPerSecond(1, decodeTokens), decode16 = bench.DecodeTokensPerSecond(16, decodeTokens);
            Console.WriteLine($"- info decode bf16: 1 stream {decode1:F1} tok/s ({100 * decode1 / bound:F0}% of the bandwidth bound {bound:F0}), 16 streams {decode16:F1} tok/s");
        }

        // (4) A LoRA step: fp32 parity with the CPU, then bf16 speed.
        var data = Enumerable.Range(0, 8).Select(i => Datum.ForNextToken(Enumerable.Range(0, 257).Select(t => 300 + (t * 31 + i * 7) % 4000).ToArray())).ToList();
        var loss = LossSpec.Parse("cross_entropy");
        var lora = new LoraConfig { Rank = 32, Seed = 3 };
        var (cpuLoss, cpuNorm, _) = LoraStep(directory, ScalarType.Float32, CPU, data, loss, lora);
        var (deviceLoss, deviceNorm, _) = LoraStep(directory, ScalarType.Float32, device, data, loss, lora);
        Check("LoRA step fp32: loss", Relative(cpuLoss, deviceLoss) <= Fp32StepTolerance, $"cpu {cpuLoss:G7}, {ComputeDevice.Name(device)} {deviceLoss:G7}");
        Check("LoRA step fp32: gradient norm", Relative(cpuNorm, deviceNorm) <= Fp32StepTolerance, $"cpu {cpuNorm:G7}, {ComputeDevice.Name(device)} {deviceNorm:G7}");
        var (bf16Loss, _, seconds) = LoraStep(directory, ScalarType.BFloat16, device, data, loss, lora);
        Check("LoRA step bf16: finite loss", double.IsFinite(bf16Loss), $"{bf16Loss:G5}; {8 * 256 / seconds:F0} tok/s per forward_backward + optim_step");

        Console.WriteLine(failures == 0 ? "all parity checks passed" : $"{failures} check(s) failed");
        return failures == 0 ? 0 : 1;
    }

    static IReadOnlyList<int> Greedy(Sampler sampler, int[] prompt) =>
        sampler.Sample(new SampleRequest(prompt, 1, new SamplingParams { MaxTokens = 32, Temperature = 0, IgnoreEos = true })).Sequences[0].Tokens;

    // One forward_backward and optim_step on a fresh adapter; returns the loss, the gradient norm and the best time of a step.
    static (double Loss, double Norm, double Seconds) LoraStep(string directory, ScalarType dtype, TorchSharp.torch.Device device,
        List<Datum> data, LossSpec loss, LoraConfig config)
    {
        using var model = PretrainedModel.Load(directory, dtype, device);
        using var run = TrainingRun.CreateLora(model.Network, config);
        double first = run.ForwardBackward(data, loss).Loss;
        double norm = run.OptimStep(new AdamParams { LearningRate = 1e-4 }).GradientNorm;
        double best = double.MaxValue;
        for (int i = 0; i < 2; i++)
        {
            var clock = Stopwatch.StartNew();
            run.ForwardBackward(data, loss);
            run.OptimStep(new AdamParams { LearningRate = 1e-4 });
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return (first, norm, best);
    }

    static double Relative(double a, double b) => Math.Abs(a - b) / Math.Max(1e-12, Math.Abs(a));
    static string Name(ScalarType dtype) => dtype == ScalarType.Float32 ? "fp32" : "bf16";
    static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
