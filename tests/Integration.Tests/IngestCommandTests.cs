using Xunit.Abstractions;
using System.IO.Compression;
using System.Text;
using Streaming.Training.Data;

namespace Streaming.Integration.Tests;

/// <summary>
/// `streaming ingest` with bad input, through the real CLI against one real silo process: each case is one
/// `error: ...` line on stderr and exit 2 (or a counted skip on success), never a stack trace, and the good
/// corpus ingested first on the same run keeps training.
/// </summary>
public sealed class IngestCommandTests(IngestSilo silo, ITestOutputHelper output) : IClassFixture<IngestSilo>, IDisposable
{
    readonly string input = Directory.CreateTempSubdirectory("streaming-ingest-input-").FullName;

    public void Dispose() => Directory.Delete(input, recursive: true);

    [Fact]
    public void TokenizerIsFixedByTheRunsFirstCorpus()
    {
        Directory.CreateDirectory(Path.Combine(input, "tiktoken"));
        var first = IngestSilo.WriteParagraphs(Path.Combine(input, "tiktoken", "first.txt"), 40_000);
        var ok = silo.Client($"ingest --run tiktoken-run --tokenizer cl100k_base --progress never {first}");
        Assert.True(ok.Code == 0, ok.Err);
        // Several bytes per token with cl100k_base (one per token with bytes).
        Assert.InRange(IngestSilo.Tokens(ok.Out), 40_000 / 12, 40_000 / 3);
        var second = Write("tiktoken/second.txt", "Noch ein Text, der nicht passt."u8.ToArray());
        AssertError(silo.Client($"ingest --run tiktoken-run --tokenizer byte {second}"),
            "run 'tiktoken-run' uses the tokenizer cl100k_base (set by its first corpus); all its corpora must, not byte");
        AssertError(silo.Client($"ingest --run another-tiktoken-run --tokenizer gpt3 {second}"), "unknown tokenizer 'gpt3'");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void StatusOfARunThatDoesNotExistIsAnError()
    {
        AssertError(silo.Client("status --run no-such-run"), "no run 'no-such-run' on this silo (its runs: ");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void MissingFile()
    {
        var path = Path.Combine(input, "nope.jsonl");
        AssertError(Ingest(path), $"corpus path not found: {path}");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void EmptyFile()
    {
        var path = Write("empty.txt", []);
        AssertError(Ingest(path), $"{path}: empty file");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void BinaryFile()
    {
        var bytes = new byte[50_000];
        new Random(7).NextBytes(bytes);
        var path = Write("blob.txt", bytes);
        AssertError(Ingest(path), $"{path}: binary file (holds NUL bytes), not text");
        silo.AssertGoodCorpusIntact();
    }

    [Theory]
    [InlineData("report.docx")]
    [InlineData("table.csv")]
    public void UnknownFormat(string file)
    {
        var path = Write(file, "a,b,c\n1,2,3\n"u8.ToArray());
        AssertError(Ingest(path), $"{path}: unsupported file type '{Path.GetExtension(file)}' (supported: .txt, .jsonl, .parquet; .txt and .jsonl also compressed: .gz, .zst)");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void FolderWithoutCorpusFiles()
    {
        Write("folder/LICENSE", "MIT"u8.ToArray());
        Write("folder/notes.md", "# notes"u8.ToArray());
        var path = Path.Combine(input, "folder");
        AssertError(Ingest(path), $"{path}: no usable documents (skipped 2 files: 2 not .txt/.jsonl/.parquet)");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void AllInvalidUtf8IsAnErrorAndTheNameStaysFreeForTheCorrectedFile()
    {
        var latin1 = Write("latin1.txt", Encoding.Latin1.GetBytes("Grüße aus Köln\n\nÄrger über Öl\n"));
        AssertError(Ingest(latin1, name: "fixme"),
            $"{latin1}: no usable documents (skipped 2 documents: 2 invalid UTF-8); the text must be UTF-8 (convert it, e.g. with iconv)");

        // The failed ingest took nothing: the corrected file goes in under the same name.
        var utf8 = Write("utf8.txt", Encoding.UTF8.GetBytes("Grüße aus Köln\n\nÄrger über Öl\n"));
        var fixedIngest = Ingest(utf8, name: "fixme");
        Assert.True(fixedIngest.Code == 0, fixedIngest.Err);
        Assert.StartsWith($"queued fixme on run {IngestSilo.Run}: ", fixedIngest.Out);
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void SomeInvalidUtf8IsSkippedAndCounted()
    {
        var path = Write("mixed.txt", [.. "good one\n\nbad "u8, 0xC3, 0x28, 0xFF, .. "\n\ngood two\n"u8]);
        var (code, stdout, stderr) = Ingest(path);
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        Assert.Equal($"queued mixed on run {IngestSilo.Run}: 8 tokens in 1 block to train, 8 to validate, from 2 documents (skipped 1 document: 1 invalid UTF-8)", stdout.Trim());
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public async Task A100MegabyteLineIsSkippedInBoundedMemoryAndTheSiloStaysUp()
    {
        const long limit = 16 << 20;   // the silo's document limit (CorpusReaderOptions.MaxDocumentBytes)
        var txt = Path.Combine(input, "oneline.txt");
        await using (var file = File.Create(txt))
        {
            file.Write("a document before\n\n"u8);
            WriteLongLine(file);
            file.Write("\n\na document after\n"u8);
        }
        // A finished run lets go of its model a while after it finished, and loads it again for a new corpus: a corpus
        // trained just before keeps it loaded, so that the measurement sees the ingest, not a model coming back.
        var warmUp = Write("warm-up.txt", "A short text that brings the run's model back into memory.\n\nAnd a second paragraph."u8.ToArray());
        // Read on the silo as the measured ingest is: an upload before it would leave its chunk buffers in the silo's heap.
        Assert.Equal(0, Ingest(warmUp, options: "--on-silo").Code);
        // Measure once training has settled, so that only the ingest moves the peak.
        await silo.WaitUntilTrained();
        var before = silo.ResetPeakMemory();
        // Read where it lies: the measurement is the reader's, not an upload's.
        var (code, stdout, stderr) = Ingest(txt, options: "--on-silo");
        var growth = silo.PeakMemory() - before;
        output.WriteLine($"silo peak memory {before >> 20} MiB before, +{growth >> 20} MiB reading the 100 MiB line");
        Assert.True(code == 0, stderr);
        Assert.EndsWith("from 2 documents (skipped 1 document: 1 over 16 MiB)", stdout.Trim());
        // One line buffer of the limit, kept for both passes (measured: 4-16 MiB); twice the limit leaves room for noise.
        Assert.True(growth < 2 * limit, $"the silo's peak memory grew by {growth >> 20} MiB reading a 100 MiB line (limit {limit >> 20} MiB)");
        silo.AssertGoodCorpusIntact();

        // The same line alone in a .jsonl leaves no document at all: an error, and the silo is still there.
        var jsonl = Path.Combine(input, "oneline.jsonl");
        await using (var file = File.Create(jsonl))
        {
            file.Write("{\"text\": \""u8);
            WriteLongLine(file);
            file.Write("\"}\n"u8);
        }
        AssertError(Ingest(jsonl, name: "oneline-jsonl", options: "--on-silo"), $"{jsonl}: no usable documents (skipped 1 document: 1 over 16 MiB)");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void NameUsedTwice()
    {
        var other = Write($"other/{IngestSilo.GoodName}.jsonl", "{\"text\": \"different content\"}\n"u8.ToArray());
        // Same default name (the file name), different file.
        var error = AssertError(Ingest(other), $"corpus name '{IngestSilo.GoodName}' is already used (for ");
        Assert.EndsWith("choose another --name", error);
        // Same name given explicitly, on another run: still another source (the same file there would share the corpus).
        AssertError(Ingest(other, name: IngestSilo.GoodName, run: "another-run"), $"corpus name '{IngestSilo.GoodName}' is already used (for ");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void TheSameIngestAgainIsAcceptedAndChangesNothing()
    {
        var good = Path.Combine(silo.Data, "in", $"{IngestSilo.GoodName}.jsonl");
        var (code, stdout, stderr) = Ingest(good);
        Assert.True(code == 0, stderr);
        Assert.StartsWith($"{IngestSilo.GoodName} is already queued on run {IngestSilo.Run}: ", stdout);
        Assert.Equal(silo.GoodTokens, IngestSilo.Tokens(stdout));
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void AChangedFileUnderItsOldNameIsRefusedAndTheQueuedCorpusKept()
    {
        var path = Write("growing.txt", "first version\n"u8.ToArray());
        var first = Ingest(path);
        Assert.True(first.Code == 0, first.Err);
        File.AppendAllText(path, "\nmore text that came later\n");
        AssertError(Ingest(path), $"{path} has changed since corpus 'growing' was ingested from it on run {IngestSilo.Run}");
        var growing = silo.Status().GetProperty("corpora").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "growing");
        Assert.Equal(IngestSilo.Tokens(first.Out), growing.GetProperty("tokensTotal").GetInt64());
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void ACompressedCorpusIsReadAndATruncatedOneIsOneError()
    {
        var text = Encoding.UTF8.GetBytes(string.Join("\n\n", Enumerable.Range(0, 200).Select(i => $"paragraph {i} of a packed book")));
        var packed = Path.Combine(input, "packed-book.txt.gz");
        using (var output = File.Create(packed))
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            gzip.Write(text);
        var (code, stdout, stderr) = Ingest(packed);
        Assert.True(code == 0, stderr);
        // The default name drops the compression's extension with the format's.
        Assert.StartsWith($"queued packed-book on run {IngestSilo.Run}: ", stdout);
        Assert.Contains("from 200 documents", stdout);

        var bytes = File.ReadAllBytes(packed);
        var truncated = Write("truncated.txt.gz", bytes[..(bytes.Length / 2)]);
        AssertError(Ingest(truncated), $"'{truncated}' is not a valid gzip stream: truncated or damaged");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void TheSameTextUnderAnotherNameNeedsAllowDuplicate()
    {
        var original = Write("twice/original.txt", "a text to train once\n\nand its second paragraph\n"u8.ToArray());
        var copy = Write("twice/copy.txt", File.ReadAllBytes(original));
        var first = Ingest(original);
        Assert.True(first.Code == 0, first.Err);

        AssertError(Ingest(copy), $"run '{IngestSilo.Run}' already has this text as corpus 'original' (same content hash); use --allow-duplicate to train it again");
        var allowed = silo.Client($"ingest --run {IngestSilo.Run} --allow-duplicate --progress never {copy}");
        Assert.True(allowed.Code == 0, allowed.Err);
        Assert.StartsWith($"queued copy on run {IngestSilo.Run}: ", allowed.Out);
        Assert.EndsWith("; 2 documents also in corpus original of this run", allowed.Out.Trim());
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void InvalidName()
    {
        var path = Write("ok.txt", "fine text"u8.ToArray());
        AssertError(Ingest(path, name: "../escape"), "invalid corpus name '../escape'");
        silo.AssertGoodCorpusIntact();
    }

    [Fact]
    public void NoSiloOnThePort()
    {
        var path = Write("ok.txt", "fine text"u8.ToArray());
        var port = Executables.FreePort();
        AssertError(Executables.Run(Executables.Client, $"ingest --run {IngestSilo.Run} --gateway {port} {path}"),
            $"cannot reach a silo on localhost:{port}");
    }

    [Fact]
    public async Task TheGoodCorpusTrainsToItsLastToken()
    {
        var run = await silo.WaitUntilTrained();
        var good = run.GetProperty("corpora").EnumerateArray().Single(c => c.GetProperty("name").GetString() == IngestSilo.GoodName);
        Assert.Equal(silo.GoodTokens, good.GetProperty("tokensRead").GetInt64());
        // The silo's default schedule anneals each task's last 15% in a paper-protocol branch: those tokens are counted apart.
        var annealOnly = good.GetProperty("tokensAnnealOnly").GetInt64();
        Assert.InRange(annealOnly, 1, silo.GoodTokens / 2);
        Assert.Equal(silo.GoodTokens, good.GetProperty("tokensTrained").GetInt64() + annealOnly);
    }

    [Fact]
    public async Task AUrlGoesToTheSiloAsItIsAndIsDownloadedThere()
    {
        using var server = new CorpusHttpServer();
        await File.WriteAllLinesAsync(Path.Combine(server.Folder, "web-english.jsonl"), (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Skip(10).Take(10));
        var ok = silo.Client($"ingest --run url-run --progress never {server.Url("web-english.jsonl")}");
        Assert.True(ok.Code == 0, ok.Err);
        Assert.StartsWith("queued web-english on run url-run: ", ok.Out);

        var missing = server.Url("missing/news.jsonl.zst");
        AssertError(Ingest(missing, run: "url-run"), $"{missing}: the server answered HTTP 404 Not Found");
        AssertError(Ingest(server.BaseUrl, run: "url-run"), $"{server.BaseUrl} names no file to call the corpus after: choose a name with --name");
        silo.AssertGoodCorpusIntact();
    }

    (int Code, string Out, string Err) Ingest(string path, string? name = null, string run = IngestSilo.Run, string options = "") =>
        silo.Client($"ingest --run {run} {options} {(name is null ? "" : $"--name {name} ")}{path}");

    string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(input, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>100 MiB of one line, written in 1 MiB pieces (the test never holds it either).</summary>
    static void WriteLongLine(Stream file)
    {
        var chunk = Encoding.ASCII.GetBytes(new string('x', 1 << 20));
        for (var i = 0; i < 100; i++) file.Write(chunk);
    }

    /// <summary>Exit 2, nothing on stdout, exactly one `error: ...` line on stderr that starts with <paramref name="expected"/>; returns it.</summary>
    internal static string AssertError((int Code, string Out, string Err) result, string expected)
    {
        Assert.True(result.Code == 2, $"exit {result.Code}; stdout: {result.Out}; stderr: {result.Err}");
        Assert.Equal("", result.Out);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: " + expected, line);
        return line.TrimEnd();
    }
}
