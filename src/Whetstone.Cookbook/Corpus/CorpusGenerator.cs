using System.Security.Cryptography;
using System.Text;

namespace Whetstone.Cookbook.Corpus;

/// <summary>Deterministic chat data for pretraining, SFT and evaluation: the same seed gives the
/// same examples. Each example goes to the train or the held-out split by a hash of its question,
/// so a held-out question never also appears in train, however many examples are drawn.</summary>
public static class CorpusGenerator
{
    /// <summary>The pretraining mix (the default).</summary>
    public static readonly string[] Tasks = [ArithmeticTask.Name, InstructionTask.Name, StoryTask.StoryName, StoryTask.ReadingName];
    /// <summary>Everything the generator can make, including skills kept out of pretraining.</summary>
    public static readonly string[] AllTasks = [.. Tasks, ArithmeticTask.MultiplicationName];

    /// <param name="heldOutShare">Share of distinct questions reserved for held-out (0..1).</param>
    public static IEnumerable<ChatExample> Generate(long seed, bool heldOut, IReadOnlyCollection<string>? tasks = null, double heldOutShare = 0.1)
    {
        if (heldOutShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(heldOutShare), heldOutShare, "must be in [0, 1]");
        var wanted = tasks ?? Tasks;
        foreach (var t in wanted)
            if (!AllTasks.Contains(t)) throw new ArgumentException($"unknown task '{t}' (known: {string.Join(", ", AllTasks)})", nameof(tasks));
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        var names = wanted.ToArray();
        while (true)
        {
            var example = names[random.Next(names.Length)] switch
            {
                ArithmeticTask.Name => ArithmeticTask.Generate(random),
                InstructionTask.Name => InstructionTask.Generate(random),
                ArithmeticTask.MultiplicationName => ArithmeticTask.GenerateMultiplication(random),
                StoryTask.StoryName => StoryTask.Story(random),
                _ => StoryTask.Reading(random),
            };
            if (IsHeldOut(example, heldOutShare) == heldOut) yield return example;
        }
    }

    public static bool IsHeldOut(ChatExample example, double heldOutShare)
    {
        var question = Encoding.UTF8.GetBytes(example.Task + "\n" + example.Messages[0].Content);
        ulong hash = BitConverter.ToUInt64(SHA256.HashData(question), 0);
        return hash % 10_000 < heldOutShare * 10_000;
    }
}
