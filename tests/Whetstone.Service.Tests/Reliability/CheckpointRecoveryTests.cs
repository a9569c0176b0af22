using Whetstone.Engine.Formats;

namespace Whetstone.Service.Tests.Reliability;

/// <summary>The states a kill -9 inside <see cref="CheckpointDirectory.Write"/> can leave, made by
/// hand, and what start-up makes of them.</summary>
public class CheckpointRecoveryTests
{
    static string NewRoot() => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "whetstone-recovery-tests", Guid.NewGuid().ToString("N"))).FullName;

    static void Save(string directory, string content) =>
        CheckpointDirectory.Write(directory, staging => File.WriteAllText(Path.Combine(staging, "state.json"), content));

    [Fact]
    public void KilledBetweenMovingTheOldAsideAndTheNewInTheOldComesBackWhole()
    {
        var root = NewRoot();
        var checkpoint = Path.Combine(root, "run_1", "weights", "same");
        Save(checkpoint, "step 1");
        // The replacing save's state when killed: the old moved aside, the new still staged.
        var aside = Path.Combine(root, "run_1", "weights", $".same.{Guid.NewGuid():N}.old");
        Directory.Move(checkpoint, aside);
        var staged = Path.Combine(root, "run_1", "weights", $".same.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staged);
        File.WriteAllText(Path.Combine(staged, "state.json"), "step 2, half writ");

        Assert.Equal(1, CheckpointRecovery.Recover(root, TimeSpan.Zero));
        CheckpointDirectory.Verify(checkpoint);
        Assert.Equal("step 1", File.ReadAllText(Path.Combine(checkpoint, "state.json")));
        Assert.False(Directory.Exists(aside));
        Assert.False(Directory.Exists(staged));   // stale staging is deleted
    }

    [Fact]
    public void AFreshStagingDirectoryIsLeftAloneForTheProcessStillWritingIt()
    {
        var root = NewRoot();
        var staged = Path.Combine(root, "run_1", "weights", $".s.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staged);
        Assert.Equal(0, CheckpointRecovery.Recover(root, TimeSpan.FromMinutes(10)));
        Assert.True(Directory.Exists(staged));
        Assert.False(Directory.Exists(Path.Combine(root, "run_1", "weights", "s")));
    }

    [Fact]
    public void AnOldDirectoryWhoseReplacementIsInPlaceIsDeletedAndAnUnverifiableOneNeverRestored()
    {
        var root = NewRoot();
        var checkpoint = Path.Combine(root, "r", "weights", "x");
        Save(checkpoint, "new");
        var old = Path.Combine(root, "r", "weights", $".x.{Guid.NewGuid():N}.old");
        Save(old, "old");
        var broken = Path.Combine(root, "r", "weights", $".y.{Guid.NewGuid():N}.old");
        Directory.CreateDirectory(broken);   // no manifest: not a whole checkpoint
        Assert.Equal(0, CheckpointRecovery.Recover(root, TimeSpan.Zero));
        Assert.Equal("new", File.ReadAllText(Path.Combine(checkpoint, "state.json")));
        Assert.False(Directory.Exists(old));
        Assert.False(Directory.Exists(Path.Combine(root, "r", "weights", "y")));
    }
}
