using System.Text;
using CsCheck;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// Folders of nested sub-folders holding text files, empty files, binary and UTF-16 files and files of unsupported
/// types, with exact expected counts (a file found by walking that is not corpus text is skipped and counted); and the
/// same with symbolic links: folder loops (to the folder itself or its parent), a link to itself, dangling links. What a link
/// yields is not specified, so a folder with links is only held to a consistent result or one line.
/// </summary>
internal static class FolderCorpusGen
{
    private sealed record Item(CorpusEntry Entry, ExpectedIngest Expected);

    private static readonly string[] Folders = ["", "a", "a/b", "a/b/c", "z"];

    private static readonly Gen<Item> ItemGen =
        from folder in Gen.OneOf(Folders)
        from index in Gen.Int[0, 999]
        from item in TextGen.Weighted(
            (4, TextGen.Words1To(12).Array[1, 10].Select(docs => Text(docs))),
            (1, Gen.OneOf(".txt", ".jsonl").Select(ext => Skipped(ext, [], new SkipCounts { EmptyFiles = 1 }))),
            (1, Gen.Byte.Array[1, 100].Select(b => Skipped(".txt", [.. "text"u8, 0, .. b], new SkipCounts { BinaryFiles = 1 }))),
            (1, TextGen.Words1To(5).Select(w => Skipped(".txt", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(w)], new SkipCounts { BinaryFiles = 1 }))),
            (2, Gen.OneOf(".md", ".csv", "", ".docx", ".csv.gz", ".parquet.gz", ".json").Select(ext => Skipped(ext, "words"u8.ToArray(), new SkipCounts { UnsupportedFiles = 1 }))))
        select item with { Entry = ((FileEntry)item.Entry) with { Path = Path.Combine(folder, $"f{index}{item.Entry.Path}") } };

    /// <summary>A file of documents (one per paragraph); its path is its extension until ItemGen places it.</summary>
    private static Item Text(string[] documents) =>
        new(new FileEntry(".txt", TextGen.Utf8(string.Join("\n\n", documents))),
            new ExpectedIngest(documents.Length, documents.Sum(d => (long)TextGen.Utf8(d).Length), new SkipCounts()));

    private static Item Skipped(string extension, byte[] bytes, SkipCounts skipped) =>
        new(new FileEntry(extension, bytes), new ExpectedIngest(0, 0, skipped));

    private static readonly Gen<LinkEntry> LinkGen =
        from folder in Gen.OneOf(Folders)
        from index in Gen.Int[0, 999]
        from kind in Gen.Int[0, 3]
        select kind switch
        {
            0 => new LinkEntry(Path.Combine(folder, $"loop{index}"), "."),
            // ".." of the corpus folder itself would leave the corpus; from a sub-folder it loops back into it.
            1 => new LinkEntry(Path.Combine(folder == "" ? "a" : folder, $"up{index}"), ".."),
            2 => new LinkEntry(Path.Combine(folder, $"self{index}.txt"), $"self{index}.txt"),
            _ => new LinkEntry(Path.Combine(folder, $"gone{index}.txt"), "nowhere.txt"),
        };

    public static readonly Gen<CorpusCase> Cases =
        from items in ItemGen.Array[0, 12]
        from links in LinkGen.Array[0, 4]
        from blockSize in TextGen.BlockSize
        select Build(items, links, blockSize);

    private static CorpusCase Build(Item[] items, LinkEntry[] links, int blockSize)
    {
        // Later items of the same path replace earlier ones on disk, so only the last counts.
        var distinct = items.GroupBy(i => i.Entry.Path).Select(g => g.Last()).ToArray();
        var linked = links.GroupBy(l => l.Path).Select(g => g.First()).ToArray();
        var entries = distinct.Select(i => i.Entry).Concat(linked).ToArray();
        var expected = linked.Length == 0 ? ExpectedIngest.Sum(distinct.Select(i => i.Expected)) : null;
        return new CorpusCase(linked.Length == 0 ? "folder" : "folder with links", entries, null, 4096, blockSize, expected);
    }
}
