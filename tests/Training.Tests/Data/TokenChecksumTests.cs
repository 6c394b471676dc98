using System.Text.Json.Nodes;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

/// <summary>Token files carry checksums from the ingest on; every read checks the chunks it covers, and a corpus stored
/// before them is still read (unchecked).</summary>
public class TokenChecksumTests
{
    const int BlockSize = 1024;

    /// <summary>About 400 KB of text in 400 documents: train.bin spans several 64 KiB chunks (byte tokens: 2 bytes each).</summary>
    static string Store(TempFolder temp, string name = "demo")
    {
        var lines = Enumerable.Range(0, 400).Select(i => $"Document {i}: " + string.Concat(Enumerable.Repeat($"word{i % 13} ", 90)));
        var source = temp.File($"{name}.txt", string.Join("\n\n", lines));
        CorpusIngestor.Ingest(source, temp.Combine("data"), name, ByteTokenizer.Instance, new IngestOptions { BlockSize = BlockSize });
        return BlockStore.CorpusDirectory(temp.Combine("data"), name);
    }

    static List<int[]> TrainBlocks(BlockStore store) => [.. Enumerable.Range(0, (int)store.TrainBlockCount).Select(i => store.ReadBlock(i))];

    static void Flip(string file, long offset)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0x01));
    }

    [Fact]
    public void EveryTokenFileHasAChecksumPerChunkAndReadsBackWhole()
    {
        using var temp = new TempFolder();
        var directory = Store(temp);
        using var store = BlockStore.Open(directory);
        Assert.Equal(TokenChecksums.ChunkBytes, store.Manifest.ChecksumChunkBytes);
        foreach (var file in new[] { CorpusIngestor.TrainFile, CorpusIngestor.ValidationFile })
        {
            var length = new FileInfo(Path.Combine(directory, file)).Length;
            Assert.Equal((length + TokenChecksums.ChunkBytes - 1) / TokenChecksums.ChunkBytes * 8,
                new FileInfo(TokenChecksums.PathOf(Path.Combine(directory, file))).Length);
        }
        Assert.True(store.TrainTokens * 2 > 4 * TokenChecksums.ChunkBytes, $"{store.TrainTokens} tokens: too few chunks to test");
        Assert.Equal(store.TrainTokens, TrainBlocks(store).Sum(b => b.Length));
        // A run's own block size reads across chunk boundaries, checked too.
        Assert.Equal(store.TrainTokens, Enumerable.Range(0, (int)store.TrainBlockCountOf(777)).Sum(i => store.ReadBlock(i, 777).Length));
    }

    [Fact]
    public void AFlippedByteFailsEveryReadThatCoversItInOneLineNamingCorpusAndFile()
    {
        using var temp = new TempFolder();
        var directory = Store(temp);
        var chunk = TokenChecksums.ChunkBytes;
        Flip(Path.Combine(directory, CorpusIngestor.TrainFile), 2 * chunk + 100);
        Flip(Path.Combine(directory, CorpusIngestor.ValidationFile), 7);
        using var store = BlockStore.Open(directory);

        // Token 2 * chunk / 2 + 50 lies in block 64 of 1024 tokens (2 bytes each).
        var damagedBlock = (2 * chunk + 100) / 2 / BlockSize;
        var error = Assert.Throws<CorpusFormatException>(() => store.ReadBlock(damagedBlock));
        Assert.Equal("corpus demo: train.bin is damaged: bytes 131,072-196,607 do not match their checksum; the stored corpus cannot be "
            + "trained on (ingest its source again under another name)", error.Message);
        Assert.Throws<CorpusFormatException>(() => store.ReadBlock((2 * chunk + 100) / 2 / 777, 777));
        Assert.StartsWith("corpus demo: valid.bin is damaged: bytes 0-", Assert.Throws<CorpusFormatException>(() => store.ReadValidationBlock(0)).Message);
        // Blocks in intact chunks read as before.
        Assert.Equal(BlockSize, store.ReadBlock(0).Length);
        Assert.Equal(BlockSize, store.ReadBlock(damagedBlock + 2 * chunk / 2 / BlockSize).Length);
    }

    [Fact]
    public void AMissingOrShortChecksumFileIsOneLineAtOpen()
    {
        using var temp = new TempFolder();
        var directory = Store(temp);
        var sums = TokenChecksums.PathOf(Path.Combine(directory, CorpusIngestor.TrainFile));
        File.WriteAllBytes(sums, File.ReadAllBytes(sums)[..8]);
        var error = Assert.Throws<CorpusFormatException>(() => BlockStore.Open(directory));
        Assert.StartsWith("corpus demo: train.bin.xxh64 is missing or damaged (it must hold ", error.Message);
        File.Delete(sums);
        Assert.StartsWith("corpus demo: train.bin.xxh64 is missing or damaged", Assert.Throws<CorpusFormatException>(() => BlockStore.Open(directory)).Message);
    }

    [Fact]
    public void ACorpusStoredBeforeChecksumsIsReadUnchecked()
    {
        using var temp = new TempFolder();
        var directory = Store(temp);
        List<int[]> expected;
        using (var store = BlockStore.Open(directory)) expected = TrainBlocks(store);
        // As an earlier version stored it: no checksum files, no checksumChunkBytes in the manifest.
        var manifestPath = Path.Combine(directory, CorpusManifest.FileName);
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        Assert.True(manifest.Remove("checksumChunkBytes"));
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        foreach (var sums in Directory.GetFiles(directory, "*" + TokenChecksums.Extension)) File.Delete(sums);

        using var old = BlockStore.Open(directory);
        Assert.Null(old.Manifest.ChecksumChunkBytes);
        Assert.Equal(expected, TrainBlocks(old));
        Assert.Equal(old.ValidationTokens, Enumerable.Range(0, (int)old.ValidationBlockCount).Sum(i => old.ReadValidationBlock(i).Length));
    }

    [Fact]
    public void ACorpusSplitByBlocksHasChecksumsOfItsFinalFiles()
    {
        using var temp = new TempFolder();
        // One document of about 200 KB: held out by whole blocks, its files written twice (the stream, then the split).
        var source = temp.File("book.txt", string.Concat(Enumerable.Range(0, 20_000).Select(i => $"w{i % 97} ")));
        var manifest = CorpusIngestor.Ingest(source, temp.Combine("data"), "book", ByteTokenizer.Instance, new IngestOptions { BlockSize = BlockSize });
        Assert.Equal(ValidationSplit.Blocks, manifest.ValidationSplit);
        using var store = BlockStore.Open(temp.Combine("data"), "book");
        Assert.Equal(store.TrainTokens, TrainBlocks(store).Sum(b => b.Length));
        Assert.Equal(store.ValidationTokens, Enumerable.Range(0, (int)store.ValidationBlockCount).Sum(i => store.ReadValidationBlock(i).Length));
    }
}
