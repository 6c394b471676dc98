using Streaming.Training.Data;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>One thing to lay out under a generated corpus folder.</summary>
internal abstract record CorpusEntry(string Path)
{
    public abstract void Create(string root);
}

internal sealed record FileEntry(string Path, byte[] Bytes) : CorpusEntry(Path)
{
    public override void Create(string root)
    {
        var path = System.IO.Path.Combine(root, Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Bytes);
    }

    public override string ToString() => $"{Path} ({Bytes.Length} bytes)";
}

/// <summary>A symbolic link (to a file or folder, relative to the link's folder; it may dangle or loop).</summary>
internal sealed record LinkEntry(string Path, string Target) : CorpusEntry(Path)
{
    public override void Create(string root)
    {
        var path = System.IO.Path.Combine(root, Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, Target);
    }

    public override string ToString() => $"{Path} -> {Target}";
}

/// <summary>What the reader must make of a case whose every document's fate is known when it is generated.</summary>
/// <param name="Tokens">Byte tokenizer: the UTF-8 bytes of the documents kept.</param>
internal sealed record ExpectedIngest(long Documents, long Tokens, SkipCounts Skipped)
{
    public static ExpectedIngest Sum(IEnumerable<ExpectedIngest> parts)
    {
        long documents = 0, tokens = 0;
        var skipped = new SkipCounts();
        foreach (var part in parts)
        {
            documents += part.Documents;
            tokens += part.Tokens;
            skipped.EmptyFiles += part.Skipped.EmptyFiles;
            skipped.BinaryFiles += part.Skipped.BinaryFiles;
            skipped.UnsupportedFiles += part.Skipped.UnsupportedFiles;
            skipped.InvalidUtf8 += part.Skipped.InvalidUtf8;
            skipped.TooLarge += part.Skipped.TooLarge;
            skipped.MalformedJson += part.Skipped.MalformedJson;
            skipped.MissingText += part.Skipped.MissingText;
            skipped.EmptyDocuments += part.Skipped.EmptyDocuments;
        }
        return new ExpectedIngest(documents, tokens, skipped);
    }
}

/// <summary>
/// A generated corpus: entries laid out under a folder, the path to ingest (one of the entries, or the folder when
/// <paramref name="Target"/> is null), the reader's document limit and the block size. <paramref name="Expected"/> is
/// set when the generator knows exactly what the ingest must find; <paramref name="MustRefuse"/> when only a refusal is right.
/// </summary>
internal sealed record CorpusCase(
    string Kind, IReadOnlyList<CorpusEntry> Entries, string? Target, int MaxDocumentBytes, int BlockSize,
    ExpectedIngest? Expected = null, bool MustRefuse = false)
{
    public override string ToString() =>
        $"{Kind}: ingest {Target ?? "the folder"} (max document {MaxDocumentBytes} bytes, blocks of {BlockSize}) of [{string.Join(", ", Entries)}]" +
        (Expected is null ? "" : $"; expected {Expected.Documents} documents, {Expected.Tokens} tokens, {Expected.Skipped}") +
        (MustRefuse ? "; must be refused" : "");
}
