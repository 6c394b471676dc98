using System.Text;
using System.Text.Unicode;

namespace Streaming.Training.Data;

/// <summary>Checks shared by the readers: what a file looks like, and whether bytes make a usable document.</summary>
internal static class TextChecks
{
    private const int SniffBytes = 8192;

    public enum FileKind { Text, Empty, Binary, Utf16 }

    /// <summary>
    /// Empty (no bytes), UTF-16 (its byte order mark; not readable as UTF-8), binary (a NUL byte in the
    /// first 8 KiB, as git and grep decide) or text; <paramref name="text"/> is read from its start.
    /// </summary>
    public static FileKind Sniff(Stream text)
    {
        Span<byte> head = stackalloc byte[SniffBytes];
        var read = text.ReadAtLeast(head, SniffBytes, throwOnEndOfStream: false);
        if (read == 0) return FileKind.Empty;
        if (read >= 2 && (head[0], head[1]) is (0xFF, 0xFE) or (0xFE, 0xFF)) return FileKind.Utf16;
        return head[..read].Contains((byte)0) ? FileKind.Binary : FileKind.Text;
    }

    /// <summary>Decodes one document's bytes, or counts why it is skipped and returns null.</summary>
    public static string? Decode(ReadOnlySpan<byte> bytes, int maxDocumentBytes, SkipCounts skipped)
    {
        if (bytes.Length > maxDocumentBytes)
        {
            skipped.TooLarge++;
            return null;
        }
        if (!Utf8.IsValid(bytes))
        {
            skipped.InvalidUtf8++;
            return null;
        }
        return Accept(Encoding.UTF8.GetString(bytes), maxDocumentBytes, skipped);
    }

    /// <summary>Counts an empty or oversized decoded text as skipped; otherwise returns it.</summary>
    public static string? Accept(string? text, int maxDocumentBytes, SkipCounts skipped)
    {
        if (text is null)
        {
            skipped.MissingText++;
            return null;
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            skipped.EmptyDocuments++;
            return null;
        }
        // Cheap bound first: a UTF-8 byte count is at most 3 per UTF-16 char.
        if ((long)text.Length * 3 > maxDocumentBytes && Encoding.UTF8.GetByteCount(text) > maxDocumentBytes)
        {
            skipped.TooLarge++;
            return null;
        }
        return text;
    }
}
