namespace Whetstone.Service.Cluster;

/// <summary>The run grains active on this silo: the load a worker reports. Counted at activation,
/// not when the engine has the run in memory, so a run still loading already counts and a burst
/// of creations spreads over the workers.</summary>
internal sealed class RunGrainCount
{
    int _value;
    public int Value => Volatile.Read(ref _value);
    public void Add() => Interlocked.Increment(ref _value);
    public void Remove() => Interlocked.Decrement(ref _value);
}
