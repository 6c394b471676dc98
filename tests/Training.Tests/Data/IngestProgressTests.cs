using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

public class IngestProgressTests
{
    /// <summary>Collects reports synchronously, in order (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class Recorder : IProgress<IngestProgress>
    {
        public List<IngestProgress> Reports { get; } = [];
        public void Report(IngestProgress value) => Reports.Add(value);
    }

    [Fact]
    public void Each_pass_reports_bytes_of_the_total_and_ends_at_the_corpus_counts()
    {
        using var temp = new TempFolder();
        temp.File("corpus/a.txt", string.Join("\n\n", Enumerable.Range(0, 3000).Select(i => $"document {i} " + new string('a', i % 50))));
        temp.File("corpus/b.jsonl", string.Join("\n", Enumerable.Range(0, 500).Select(i => $$"""{"text": "line {{i}}"}""")));
        temp.File("corpus/LICENSE", "not a corpus file");
        var total = Directory.EnumerateFiles(temp.Combine("corpus")).Sum(f => new FileInfo(f).Length);
        var recorder = new Recorder();

        var manifest = CorpusIngestor.Ingest(temp.Combine("corpus"), temp.Combine("data"), "c", ByteTokenizer.Instance, progress: recorder);

        Assert.All(recorder.Reports, r => Assert.Equal(total, r.TotalBytes));
        foreach (var phase in new[] { IngestPhase.Scan, IngestPhase.Tokenize })
        {
            var reports = recorder.Reports.Where(r => r.Phase == phase).ToList();
            Assert.NotEmpty(reports);
            Assert.Equal(reports.Select(r => r.BytesRead).Order(), reports.Select(r => r.BytesRead));
            Assert.Equal(reports.Select(r => r.Documents).Order(), reports.Select(r => r.Documents));
            Assert.Equal(total, reports[^1].BytesRead);
            Assert.Equal(3500, reports[^1].Documents);
        }
        // Scan comes first, then tokenize, whose last report holds every token written.
        Assert.Equal(IngestPhase.Tokenize, recorder.Reports[^1].Phase);
        Assert.True(recorder.Reports.FindLastIndex(r => r.Phase == IngestPhase.Scan) < recorder.Reports.FindIndex(r => r.Phase == IngestPhase.Tokenize));
        Assert.Equal(manifest.TrainTokens + manifest.ValidationTokens, recorder.Reports[^1].Tokens);
    }

    [Fact]
    public void Bytes_read_follow_the_position_inside_a_big_text_file()
    {
        using var temp = new TempFolder();
        var file = temp.File("big.txt", string.Join("\n\n", Enumerable.Range(0, 20000).Select(i => $"paragraph {i} " + new string('b', 200))));
        var reader = new CorpusReader(file);
        var seen = new List<long>();
        foreach (var _ in reader.ReadDocuments(new SkipCounts())) seen.Add(reader.BytesRead);

        Assert.Equal(new FileInfo(file).Length, reader.TotalBytes);
        Assert.Equal(new FileInfo(file).Length, reader.BytesRead);
        // Mid-file positions, not a jump from 0 to the end: the line reader reads 64 KiB at a time.
        Assert.Contains(seen, b => b > 0 && b < reader.TotalBytes / 2);
        Assert.Equal(seen.Order(), seen);
    }

    [Fact]
    public void Skips_are_described_by_reason_with_the_size_limit()
    {
        var skipped = new SkipCounts { InvalidUtf8 = 2, TooLarge = 1, BinaryFiles = 1, UnsupportedFiles = 2 };
        Assert.Equal("skipped 3 documents: 2 invalid UTF-8, 1 over 16 MiB; skipped 3 files: 1 binary, 2 not .txt/.jsonl/.parquet",
            skipped.Describe(16 * 1024 * 1024));
        Assert.Equal("skipped 1 document: 1 empty", new SkipCounts { EmptyDocuments = 1 }.Describe(1 << 20));
        Assert.Equal("", new SkipCounts().Describe(1 << 20));
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(16 * 1024 * 1024, "16 MiB")]
    [InlineData(1536L * 1024 * 1024, "1.5 GiB")]
    public void Byte_sizes_read_in_binary_units(long bytes, string expected) =>
        Assert.Equal(expected, ByteSize.Format(bytes).Replace(',', '.'));
}
