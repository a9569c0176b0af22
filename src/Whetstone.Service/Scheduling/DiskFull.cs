namespace Whetstone.Service.Scheduling;

/// <summary>A write that failed because its filesystem is full (or over quota): the server is fine,
/// the disk is not, so the caller gets 507 insufficient_storage rather than an internal error. The
/// checkpoint writer removes its staging directory on any failure, so nothing partial stays.</summary>
internal static class DiskFull
{
    // On Unix .NET puts the errno in HResult: ENOSPC 28, EDQUOT 122. On Windows: ERROR_DISK_FULL (112), ERROR_HANDLE_DISK_FULL (39).
    public static bool Is(IOException error) => (error.HResult & 0xFFFF) is 28 or 122 or 112 or 39
        || error.Message.Contains("No space left on device", StringComparison.Ordinal);

    public static string Message(IOException error) =>
        $"the server's disk is full; nothing was saved, the server keeps serving, free space or save elsewhere ({error.Message})";
}
