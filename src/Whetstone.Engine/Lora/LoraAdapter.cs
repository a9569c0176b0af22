using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Whetstone.Engine.Lora;

/// <summary>One run's low-rank adapter over a frozen base model: a pair of factors per targeted
/// projection. Many adapters share one base network; which one applies to which batch row is
/// decided per forward pass by an <see cref="AdapterBatch"/>.</summary>
public sealed class LoraAdapter : IDisposable
{
    readonly Dictionary<string, LoraWeights> _weights;

    public LoraConfig Config { get; }
    public double Scale => Config.Scale;
    public IReadOnlyCollection<LoraWeights> Weights => _weights.Values;
    /// <summary>Where the factors live: the base network's device.</summary>
    public Device Device => _weights.Values.First().A.device;
    /// <summary>The scalar head of a reward model (<see cref="LoraConfig.ValueHead"/>); null otherwise.</summary>
    public ValueHead? ValueHead { get; }

    LoraAdapter(LoraConfig config, Dictionary<string, LoraWeights> weights, ValueHead? valueHead)
    {
        if (config.ValueHead != valueHead is not null)
            throw new ArgumentException(config.ValueHead ? "the config asks for a value head and none was given" : "a value head was given but the config has value_head off");
        Config = config;
        _weights = weights;
        ValueHead = valueHead;
    }

    /// <summary>A fresh adapter: A ~ U(−1/√in, 1/√in) (PEFT's Kaiming-uniform with a = √5),
    /// B = 0, so it leaves the base model's outputs unchanged until trained.</summary>
    /// <param name="hiddenSize">The model's hidden size: needed for a value head.</param>
    /// <param name="device">Where the factors live (the base network's device; default the CPU).
    /// They are drawn on the CPU, so a seed gives the same adapter on every device.</param>
    public static LoraAdapter Create(IEnumerable<LoraTarget> targets, LoraConfig config, ScalarType dtype = ScalarType.Float32, long hiddenSize = 0, Device? device = null)
    {
        device ??= CPU;
        if (config.ValueHead && hiddenSize <= 0) throw new ArgumentException("a value head needs the model's hidden size");
        config.Validate();
        var generator = new Generator((ulong)config.Seed);
        var weights = new Dictionary<string, LoraWeights>(StringComparer.Ordinal);
        var shared = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        foreach (var target in targets.Where(t => config.Targets(t.Group)))
        {
            if (config.SharedExpertA && SharedExpertA.GroupOf(target.Name) is { } group && shared.TryGetValue(group, out var sharedA))
            {
                weights[target.Name] = new LoraWeights(target, sharedA,
                    new Parameter(zeros([target.OutFeatures, config.Rank], dtype, device: device).DetachFromDisposeScope(), requires_grad: true));
                continue;
            }
            double bound = 1.0 / Math.Sqrt(target.InFeatures);
            using var raw = rand([config.Rank, target.InFeatures], generator: generator, dtype: ScalarType.Float64, device: CPU);
            var a = ((raw * 2 - 1) * bound).to(dtype, device).DetachFromDisposeScope();
            var b = zeros([target.OutFeatures, config.Rank], dtype, device: device).DetachFromDisposeScope();
            weights[target.Name] = new LoraWeights(target, new Parameter(a, requires_grad: true), new Parameter(b, requires_grad: true));
            if (config.SharedExpertA && SharedExpertA.GroupOf(target.Name) is { } first) shared[first] = weights[target.Name].A;
        }
        return new LoraAdapter(config, weights, config.ValueHead ? Lora.ValueHead.Create(hiddenSize, config.Seed, dtype, device) : null);
    }

    /// <summary>An adapter from given factors (a checkpoint or an imported PEFT adapter), moved
    /// to <paramref name="device"/> (default: where they are).</summary>
    public static LoraAdapter FromTensors(IEnumerable<LoraTarget> targets, LoraConfig config,
        Func<LoraTarget, (Tensor A, Tensor B)?> factors, ValueHead? valueHead = null, Device? device = null)
    {
        config.Validate();
        var weights = new Dictionary<string, LoraWeights>(StringComparer.Ordinal);
        var shared = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        foreach (var target in targets)
        {
            if (factors(target) is not var (a, b)) continue;
            string? group = config.SharedExpertA ? SharedExpertA.GroupOf(target.Name) : null;
            if (group is not null && shared.TryGetValue(group, out var sharedA))
            {
                // The experts of a shared-A adapter were given one A each (a checkpoint reads the
                // shared one per expert, a PEFT export writes it per expert): they must be equal.
                using (a)
                    if (!a.shape.SequenceEqual(sharedA.shape) || !a.to(sharedA.dtype, sharedA.device).eq(sharedA).all().item<bool>())
                        throw new InvalidDataException($"{target.Name}: lora_A differs from the other experts' of {group}, so the adapter is not shared-A");
                if (!b.shape.SequenceEqual(new[] { target.OutFeatures, (long)config.Rank }))
                    throw new InvalidDataException($"{target.Name}: lora_B has shape [{string.Join(", ", b.shape)}], expected [{target.OutFeatures}, {config.Rank}]");
                weights[target.Name] = new LoraWeights(target, sharedA, new Parameter(Place(b, device).DetachFromDisposeScope(), requires_grad: true));
                continue;
            }
            if (!a.shape.SequenceEqual(new[] { (long)config.Rank, target.InFeatures }) || !b.shape.SequenceEqual(new[] { target.OutFeatures, (long)config.Rank }))
                throw new InvalidDataException($"{target.Name}: LoRA factors have shapes A [{string.Join(", ", a.shape)}], B [{string.Join(", ", b.shape)}], expected A [{config.Rank}, {target.InFeatures}], B [{target.OutFeatures}, {config.Rank}]");
            weights[target.Name] = new LoraWeights(target,
                new Parameter(Place(a, device).DetachFromDisposeScope(), requires_grad: true), new Parameter(Place(b, device).DetachFromDisposeScope(), requires_grad: true));
            if (group is not null) shared[group] = weights[target.Name].A;
        }
        if (weights.Count == 0) throw new InvalidDataException("the adapter has no factors for any projection of this model");
        return new LoraAdapter(config, weights, valueHead);
    }

    /// <summary>The tensor on <paramref name="device"/>: itself when it is there already (or no
    /// device is asked for), else a copy there, the original freed.</summary>
    internal static Tensor Place(Tensor tensor, Device? device)
    {
        if (device is null || (tensor.device_type == device.type && (device.index < 0 || tensor.device_index == device.index))) return tensor;
        var placed = tensor.to(device);
        tensor.Dispose();
        return placed;
    }

    public bool TryGet(string moduleName, out LoraWeights weights) => _weights.TryGetValue(moduleName, out weights!);

    /// <summary>Every trainable tensor once, in a fixed order (A then B, targets in model order;
    /// the value head last). A shared expert A comes once, with its first expert, under its
    /// shared name (<see cref="Lora.SharedExpertA"/>).</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var w in _weights.Values)
        {
            if (seen.Add(w.A)) yield return (SharedExpertA.ParameterNameOfA(Config, w.Target.Name), w.A);
            yield return ($"{w.Target.Name}.lora_B.weight", w.B);
        }
        if (ValueHead is not null)
            foreach (var p in ValueHead.NamedParameters()) yield return p;
    }

    public long ParameterCount => NamedParameters().Sum(p => p.Parameter.numel());

    public void Dispose()
    {
        // Each factor once (a shared expert A is held by several targets); the head disposes its own.
        foreach (var p in _weights.Values.SelectMany(w => new[] { w.A, w.B }).Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().ToList()) p.Dispose();
        ValueHead?.Dispose();
    }
}
