// MSBuild inline task (see TorchSharpNativeFix.targets): finds every libLibTorchSharp.so under a
// directory and sets VER_FLG_WEAK on its version need for one GLIBCXX version, when the system
// libstdc++ does not provide that version. Reads ELF64 little-endian only (linux-x64).
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class MarkGlibcxxVersionNeedWeak : Task
{
    [Required] public string Directory { get; set; }
    [Required] public string VersionName { get; set; }

    const ushort VerFlagWeak = 0x2;
    const uint ShtGnuVerneed = 0x6ffffffe;

    public override bool Execute()
    {
        if (!System.IO.Directory.Exists(Directory)) return true;
        var libraries = System.IO.Directory.GetFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        if (libraries.Length == 0) return true;
        if (SystemLibStdCxxHasVersion())
        {
            Log.LogMessage(MessageImportance.Low, "System libstdc++ provides " + VersionName + "; no patch needed.");
            return true;
        }
        foreach (var path in libraries)
        {
            try
            {
                int changed = Patch(path);
                Log.LogMessage(MessageImportance.Normal, "Whetstone: " + path + ": " +
                    (changed > 0 ? "marked " + VersionName + " weak" : "already weak or no such need"));
            }
            catch (Exception e)
            {
                Log.LogError("Whetstone: could not patch " + path + ": " + e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    bool SystemLibStdCxxHasVersion()
    {
        string[] candidates = {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        byte[] needle = Encoding.ASCII.GetBytes(VersionName + "\0");
        foreach (var candidate in candidates)
        {
            if (!File.Exists(candidate)) continue;
            return IndexOf(File.ReadAllBytes(candidate), needle) >= 0;
        }
        // No libstdc++ where we know to look: patching is harmless, so patch.
        return false;
    }

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    int Patch(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("not ELF64 little-endian");

        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int changed = 0;
        for (int s = 0; s < shnum; s++)
        {
            int sh = checked((int)shoff + s * shentsize);
            uint type = BitConverter.ToUInt32(elf, sh + 4);
            if (type != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, sh + 0x18);
            uint link = BitConverter.ToUInt32(elf, sh + 0x28);
            int strSh = checked((int)shoff + (int)link * shentsize);
            long strOffset = (long)BitConverter.ToUInt64(elf, strSh + 0x18);

            long need = offset;
            while (true)
            {
                int count = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < count; a++)
                {
                    uint nameOffset = BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadCString(elf, strOffset + nameOffset) == VersionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlagWeak) == 0)
                        {
                            flags |= VerFlagWeak;
                            elf[aux + 4] = (byte)(flags & 0xff);
                            elf[aux + 5] = (byte)(flags >> 8);
                            changed++;
                        }
                    }
                    uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(elf, (int)need + 12);
                if (next == 0) break;
                need += next;
            }
        }
        if (changed > 0)
        {
            // Write beside, then rename over: a reader never sees a half-written library.
            string temp = path + ".whetstone-tmp";
            File.WriteAllBytes(temp, elf);
            File.Copy(temp, path, true);
            File.Delete(temp);
        }
        return changed;
    }

    static string ReadCString(byte[] data, long offset)
    {
        int end = (int)offset;
        while (data[end] != 0) end++;
        return Encoding.ASCII.GetString(data, (int)offset, end - (int)offset);
    }
}
