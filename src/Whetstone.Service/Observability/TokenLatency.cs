using System.Diagnostics;

namespace Whetstone.Service.Observability;

/// <summary>The latencies of one /v1 request as its handler reads the tokens: time to the first
/// token of any choice (from the request's arrival), then the gap between consecutive tokens of
/// each choice. Tokens are timed when read, so a reader that fell behind sees a burst of short gaps
/// after a long one; the handler reads as soon as the decode loop publishes.</summary>
internal sealed class TokenLatency(WhetstoneMeter meter, string baseModel, long arrivedTimestamp)
{
    readonly Dictionary<int, double> _lastBySample = [];

    public void Token(int sample)
    {
        double now = Stopwatch.GetElapsedTime(arrivedTimestamp).TotalSeconds;
        if (_lastBySample.Count == 0) meter.FirstToken(baseModel, now);
        else if (_lastBySample.TryGetValue(sample, out double previous)) meter.BetweenTokens(baseModel, now - previous);
        _lastBySample[sample] = now;
    }
}
