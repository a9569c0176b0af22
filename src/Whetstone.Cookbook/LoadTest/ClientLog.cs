using System.Text.Json;

namespace Whetstone.Cookbook.LoadTest;

/// <summary>One load-test client's own log (client-NN.jsonl): a line per acknowledged optimizer
/// step with the step number the server returned, and a line per failed operation. These lines,
/// not the server's word, are what lost and duplicated steps are counted against.</summary>
public sealed class ClientLog : IDisposable
{
    readonly StreamWriter _writer;
    readonly List<long> _steps = [];

    public ClientLog(string directory, int client)
    {
        Path = System.IO.Path.Combine(directory, $"client-{client:D2}.jsonl");
        _writer = new StreamWriter(Path) { AutoFlush = true };
    }

    public string Path { get; }
    /// <summary>The step numbers of acknowledged optimizer steps, in the order they were acknowledged.</summary>
    public IReadOnlyList<long> AcknowledgedSteps => _steps;

    public void Run(string runId) => Write(new { op = "create_run", run = runId });

    public void OptimStepAcknowledged(string runId, long step)
    {
        _steps.Add(step);
        Write(new { op = "optim_step", run = runId, step });
    }

    public void Failed(string op, int? status, string message) => Write(new { op, failed = true, status, message });

    public void Finished(string runId, long serverStep) => Write(new { op = "end", run = runId, acknowledged = _steps.Count, server_step = serverStep });

    void Write(object entry)
    {
        var line = JsonSerializer.Serialize(entry);
        lock (_writer) _writer.WriteLine($"{{\"at\":\"{DateTimeOffset.UtcNow:O}\",{line[1..]}");
    }

    public void Dispose() => _writer.Dispose();

    /// <summary>Reads a log back: the acknowledged step numbers of its optim_step lines.</summary>
    public static IReadOnlyList<long> ReadAcknowledgedSteps(string path) =>
        File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("op").GetString() == "optim_step")
            .Select(e => e.GetProperty("step").GetInt64()).ToList();
}
