namespace Whetstone.Engine.Formats;

/// <summary>What a process killed inside <see cref="CheckpointDirectory.Write"/> can leave behind,
/// put right at start-up: a save that replaced a checkpoint moves the old directory aside
/// (<c>.NAME.GUID.old</c>) and then the new one into place; killed between the two moves, NAME is
/// missing while the metadata store still lists it, so the old directory — whole and verified by
/// its manifest — goes back. Staging directories (<c>.NAME.GUID.tmp</c>) of saves that never
/// finished, and old directories whose replacement is in place, are deleted once they are older
/// than <paramref name="staleAfter"/> (another process sharing the directory may be saving now).</summary>
public static class CheckpointRecovery
{
    public static int Recover(string root, TimeSpan staleAfter)
    {
        if (!Directory.Exists(root)) return 0;
        int repaired = 0;
        var cutoff = DateTime.UtcNow - staleAfter;
        foreach (var aside in Directory.EnumerateDirectories(root, ".*", SearchOption.AllDirectories).ToList())
        {
            var name = Path.GetFileName(aside);
            bool old = name.EndsWith(".old", StringComparison.Ordinal), staging = name.EndsWith(".tmp", StringComparison.Ordinal);
            if (!old && !staging || !Directory.Exists(aside)) continue;
            // ".NAME.GUID.old" → NAME (the GUID is 32 hex digits).
            var core = name[1..^4];
            int dot = core.LastIndexOf('.');
            if (dot <= 0) continue;
            var target = Path.Combine(Path.GetDirectoryName(aside)!, core[..dot]);
            if (old && !Directory.Exists(target))
            {
                try { CheckpointDirectory.Verify(aside); }
                catch (InvalidDataException) { continue; }
                Directory.Move(aside, target);
                repaired++;
            }
            else if (Directory.GetLastWriteTimeUtc(aside) < cutoff)
            {
                Directory.Delete(aside, recursive: true);
            }
        }
        return repaired;
    }
}
