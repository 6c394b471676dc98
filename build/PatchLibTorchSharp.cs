using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Marks libLibTorchSharp.so's requirement of GLIBCXX_3.4.32 weak (VER_FLG_WEAK in the vna_flags of its
// Vernaux entry in .gnu.version_r) when this machine's libstdc++ lacks that version. Result is the file
// to ship: the source itself when no patch is needed, else a patched copy in OutputDirectory.
public class PatchLibTorchSharp : Task
{
    const string Version = "GLIBCXX_3.4.32";
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    [Required] public string Source { get; set; } = "";
    [Required] public string OutputDirectory { get; set; } = "";
    [Output] public string Result { get; set; } = "";

    public override bool Execute()
    {
        if (SystemHasVersion())
        {
            Result = Source;
            return true;
        }
        var target = Path.Combine(OutputDirectory, Path.GetFileName(Source));
        if (File.Exists(target) && File.GetLastWriteTimeUtc(target) >= File.GetLastWriteTimeUtc(Source))
        {
            Result = target;
            return true;
        }
        var bytes = File.ReadAllBytes(Source);
        if (!MarkWeak(bytes, out var error))
        {
            // A TorchSharp built against an older libstdc++ has nothing to patch.
            if (error.Length == 0) { Result = Source; return true; }
            Log.LogError($"cannot patch {Source}: {error}");
            return false;
        }
        Directory.CreateDirectory(OutputDirectory);
        var temporary = target + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        if (File.Exists(target)) File.Delete(target);
        File.Move(temporary, target);
        Log.LogMessage(MessageImportance.Normal, $"libLibTorchSharp.so: {Version} marked weak in {target}");
        Result = target;
        return true;
    }

    static bool SystemHasVersion()
    {
        string[] candidates = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                               "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6"];
        var needle = Encoding.ASCII.GetBytes(Version + "\0");
        foreach (var path in candidates)
            if (File.Exists(path) && Contains(File.ReadAllBytes(path), needle))
                return true;
        return false;
    }

    // The task compiles against netstandard2.0, so no span search.
    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int k = 0;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }

    // ELF64 little-endian only: the package ships linux-x64 binaries.
    static bool MarkWeak(byte[] elf, out string error)
    {
        error = "";
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
        {
            error = "not a 64-bit little-endian ELF file";
            return false;
        }
        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)shoff + i * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            int offset = (int)BitConverter.ToUInt64(elf, sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int strtab = (int)BitConverter.ToUInt64(elf, checked((int)shoff + link * shentsize) + 0x18);
            for (int vn = offset; ; )
            {
                int count = BitConverter.ToUInt16(elf, vn + 2);
                for (int aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8), k = 0; k < count; k++)
                {
                    if (ReadString(elf, strtab + (int)BitConverter.ToUInt32(elf, aux + 8)) == Version)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, aux + 4);
                        return true;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                uint next = BitConverter.ToUInt32(elf, vn + 12);
                if (next == 0) break;
                vn += (int)next;
            }
        }
        return false;
    }

    static string ReadString(byte[] elf, int start)
    {
        int end = Array.IndexOf(elf, (byte)0, start);
        return Encoding.ASCII.GetString(elf, start, end - start);
    }
}
